using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using CsFutures.Processes;
using CsFutures.Telemetry;

namespace Futures.Native.Tests;

/// <summary>
/// The executors' metrics and task spans, read as OpenTelemetry reads them: a <see cref="MeterListener"/>
/// on <see cref="FuturesTelemetry.MeterName"/> and an <see cref="ActivityListener"/> on
/// <see cref="FuturesTelemetry.ActivitySourceName"/>. Each instrument must move by exactly the expected
/// amount for the executor under test (measurements are filtered by its name tag), and each task's
/// span must be a child of the span that submitted it, across threads and worker processes.
/// </summary>
public class TelemetryTests
{
    private const string TestSourceName = "Futures.Native.Tests.Telemetry";
    private static readonly ActivitySource s_testSource = new(TestSourceName);

    [Test]
    public void ThreadPoolInstrumentsMoveByExactlyTheTasksItRan()
    {
        string name = "telemetry-" + Guid.NewGuid().ToString("N")[..8];
        using var recorder = new Recorder(name);
        using var release = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();
        var executor = new ThreadPoolExecutor(1, name);
        Activity submitter;
        var all = new List<Future>();
        using (submitter = s_testSource.StartActivity("submitter")!)
        {
            all.Add(executor.Submit(() => { started.Set(); return release.Wait(Waits.Long); }));
            Assert.That(started.Wait(Waits.Long), Is.True);
            for (int i = 0; i < 5; i++)
            {
                int n = i;
                all.Add(executor.Submit(() => n));
            }
            for (int i = 0; i < 2; i++)
            {
                all.Add(executor.Submit<int>(() => throw new InvalidOperationException("boom")));
            }
            for (int i = 0; i < 3; i++)
            {
                var doomed = executor.Submit(() => 0);
                Assert.That(doomed.Cancel(), Is.True);
                all.Add(doomed);
            }
        }
        recorder.Observe();
        Assert.That(recorder.Last(FuturesTelemetry.Names.QueueLength), Is.EqualTo(10), "everything but the first task waits for the one thread");
        Assert.That(recorder.Last(FuturesTelemetry.Names.LiveWorkers), Is.EqualTo(1));
        release.Set();
        executor.Shutdown(wait: true);

        Assert.That(recorder.Sum(FuturesTelemetry.Names.Submitted), Is.EqualTo(11));
        Assert.That(recorder.Sum(FuturesTelemetry.Names.Completed), Is.EqualTo(6));
        Assert.That(recorder.Sum(FuturesTelemetry.Names.Failed), Is.EqualTo(2));
        Assert.That(recorder.Sum(FuturesTelemetry.Names.Cancelled), Is.EqualTo(3));
        Assert.That(recorder.Count(FuturesTelemetry.Names.Duration), Is.EqualTo(8), "one duration per task that ran");
        Assert.That(recorder.Count(FuturesTelemetry.Names.QueueWait), Is.EqualTo(8), "one queue wait per task that ran");
        recorder.Observe();
        Assert.That(recorder.Last(FuturesTelemetry.Names.QueueLength), Is.EqualTo(0));
        Assert.That(recorder.Last(FuturesTelemetry.Names.LiveWorkers), Is.EqualTo(0));
        Assert.That(executor.Stats(), Is.EqualTo(new ExecutorStats(name, 11, 6, 2, 3, 0, 0, 0, 0, 0)));

        var spans = recorder.Spans();
        Assert.That(spans, Has.Count.EqualTo(11), "a span per task taken by the worker, cancelled ones included");
        Assert.That(spans.Select(s => s.ParentSpanId), Is.All.EqualTo(submitter.SpanId), "each task's parent is the submitting span");
        Assert.That(spans.Select(s => s.TraceId), Is.All.EqualTo(submitter.TraceId));
        Assert.That(spans.Select(s => s.OperationName), Is.All.EqualTo(FuturesTelemetry.TaskActivityName));
        Assert.That(spans.Count(s => s.GetTagItem(FuturesTelemetry.OutcomeTag) as string == "completed"), Is.EqualTo(6));
        Assert.That(spans.Where(s => s.GetTagItem(FuturesTelemetry.OutcomeTag) as string == "failed").Select(s => s.Status),
            Is.EqualTo(new[] { ActivityStatusCode.Error, ActivityStatusCode.Error }));
        Assert.That(spans.Count(s => s.GetTagItem(FuturesTelemetry.OutcomeTag) as string == "cancelled"), Is.EqualTo(3));
    }

    [Test]
    public void ATaskSubmittedWithoutASpanIsARootSpanAndNestedSubmitsChain()
    {
        string name = "telemetry-nested-" + Guid.NewGuid().ToString("N")[..8];
        using var recorder = new Recorder(name);
        var executor = new ThreadPoolExecutor(2, name);
        // The outer task submits the inner one from its worker thread: the inner span's parent is the outer span.
        var outer = executor.Submit(() => executor.Submit(() => Activity.Current?.SpanId).Result(Waits.Long));
        ActivitySpanId? innerParent = outer.Result(Waits.Long);
        executor.Shutdown(wait: true);
        var spans = recorder.Spans();
        Assert.That(spans, Has.Count.EqualTo(2));
        var root = spans.Single(s => s.ParentSpanId == default);
        var inner = spans.Single(s => s.ParentSpanId != default);
        Assert.That(inner.ParentSpanId, Is.EqualTo(root.SpanId));
        Assert.That(innerParent, Is.EqualTo(inner.SpanId), "the running task's span is Activity.Current on its thread");
    }

    [Test]
    public void WithoutListenersNothingIsRecordedButTheStatsCount()
    {
        string name = "telemetry-quiet-" + Guid.NewGuid().ToString("N")[..8];
        var executor = new ThreadPoolExecutor(1, name);
        var futures = Enumerable.Range(0, 4).Select(i => executor.Submit(() => i)).ToList();
        executor.Shutdown(wait: true);
        Assert.That(futures.Select(f => f.Result()), Is.EqualTo(new[] { 0, 1, 2, 3 }));
        Assert.That(executor.Stats().Submitted, Is.EqualTo(4));
        Assert.That(executor.Stats().Completed, Is.EqualTo(4));
    }

    [Test]
    public void StatsCountEveryTaskOfManySubmittersAndWorkers()
    {
        // The counts are kept per processor (TaskCounts): their sums must still be exact.
        var executor = new ThreadPoolExecutor(4, "telemetry-many-" + Guid.NewGuid().ToString("N")[..8]);
        const int perSubmitter = 5_000;
        var submitters = Enumerable.Range(0, 3).Select(s => Task.Run(() =>
        {
            var fs = new List<Future<int>>(perSubmitter);
            for (int i = 0; i < perSubmitter; i++)
            {
                int k = i;
                fs.Add(executor.Submit(() => k % 7 == 0 ? throw new InvalidOperationException() : k));
            }
            return fs;
        })).ToArray();
        var futures = submitters.SelectMany(t => t.Result).ToList();
        executor.Shutdown(wait: true);
        var stats = executor.Stats();
        int failed = futures.Count(f => f.Exception() is not null);
        Assert.That(stats.Submitted, Is.EqualTo(3 * perSubmitter));
        Assert.That(stats.Failed, Is.EqualTo(failed));
        Assert.That(stats.Completed, Is.EqualTo(3 * perSubmitter - failed));
        Assert.That(stats.Cancelled, Is.Zero);
    }

    [Test]
    public void ProcessPoolSpansAreChildrenOfTheSubmitterAndTakeTheWorkersTimes()
    {
        string name = "telemetry-procs-" + Guid.NewGuid().ToString("N")[..8];
        using var recorder = new Recorder(name);
        var pool = NewPool(name, traceWorkers: true);
        Activity submitter;
        Future<byte[]> echo, fail, traceParent;
        using (submitter = s_testSource.StartActivity("submitter")!)
        {
            echo = pool.Submit(Utf8("echo:hi"));
            fail = pool.Submit(Utf8("fail:no"));
            traceParent = pool.Submit(Utf8("traceparent?"));
        }
        Assert.That(Encoding.UTF8.GetString(echo.Result(Waits.Long)), Is.EqualTo("hi"));
        Assert.That(fail.Exception(Waits.Long), Is.TypeOf<WorkerTaskException>());
        string seenByWorker = Encoding.UTF8.GetString(traceParent.Result(Waits.Long));
        pool.Shutdown(wait: true);

        var spans = recorder.Spans();
        Assert.That(spans, Has.Count.EqualTo(3));
        Assert.That(spans.Select(s => s.ParentSpanId), Is.All.EqualTo(submitter.SpanId));
        Assert.That(spans.Select(s => s.TraceId), Is.All.EqualTo(submitter.TraceId));
        Assert.That(spans.Select(s => s.Id), Does.Contain(seenByWorker), "the worker received its own span's traceparent");
        var workerStart = DateTime.UnixEpoch.AddTicks(1_700_000_000_000_000_000 / 100);
        Assert.That(spans.Select(s => s.StartTimeUtc), Is.All.EqualTo(workerStart), "the span starts when the worker said");
        Assert.That(spans.Select(s => s.Duration), Is.All.EqualTo(TimeSpan.FromSeconds(1.5)), "and lasts as long as it said");
        Assert.That(spans.Single(s => s.Status == ActivityStatusCode.Error).GetTagItem(FuturesTelemetry.OutcomeTag), Is.EqualTo("failed"));

        Assert.That(recorder.Sum(FuturesTelemetry.Names.Submitted), Is.EqualTo(3));
        Assert.That(recorder.Sum(FuturesTelemetry.Names.Completed), Is.EqualTo(2));
        Assert.That(recorder.Sum(FuturesTelemetry.Names.Failed), Is.EqualTo(1));
        Assert.That(recorder.Sum(FuturesTelemetry.Names.Cancelled), Is.EqualTo(0));
        Assert.That(recorder.Values(FuturesTelemetry.Names.Duration), Is.All.EqualTo(1.5), "durations come from the worker's report");
        Assert.That(recorder.Count(FuturesTelemetry.Names.QueueWait), Is.EqualTo(3));
        Assert.That(recorder.Sum(FuturesTelemetry.Names.WorkerStarts), Is.EqualTo(1));
        Assert.That(recorder.Sum(FuturesTelemetry.Names.WorkerDeaths), Is.EqualTo(0));
    }

    [Test]
    public void ProcessPoolWithoutTracingWorkersTimesSpansItself()
    {
        string name = "telemetry-plain-" + Guid.NewGuid().ToString("N")[..8];
        using var recorder = new Recorder(name);
        var pool = NewPool(name, traceWorkers: false); // Task frames only: the worker never sees a TracedTask
        Activity submitter;
        Future<byte[]> echo;
        using (submitter = s_testSource.StartActivity("submitter")!)
        {
            echo = pool.Submit(Utf8("echo:plain"));
        }
        Assert.That(Encoding.UTF8.GetString(echo.Result(Waits.Long)), Is.EqualTo("plain"));
        pool.Shutdown(wait: true);
        var span = recorder.Spans().Single();
        Assert.That(span.ParentSpanId, Is.EqualTo(submitter.SpanId));
        Assert.That(span.GetTagItem("csfutures.timing"), Is.Null, "timed by the pool, not the worker");
        Assert.That(span.StartTimeUtc, Is.GreaterThan(DateTime.UnixEpoch.AddTicks(1_700_000_000_000_000_000 / 100).AddDays(365)));
    }

    [Test]
    public void ProcessPoolCountsWorkerDeathsRestartsAndCancellations()
    {
        string name = "telemetry-deaths-" + Guid.NewGuid().ToString("N")[..8];
        using var recorder = new Recorder(name);
        var pool = NewPool(name, traceWorkers: false, isolateCrashes: true);
        var crashed = pool.Submit(Utf8("exit:3"));
        var after = pool.Submit(Utf8("echo:after")); // queued behind the crash: a replacement runs it
        var cancelled = pool.Submit(Utf8("echo:never"));
        Assert.That(cancelled.Cancel(), Is.True);
        Assert.That(crashed.Exception(Waits.Long), Is.TypeOf<BrokenProcessPoolException>());
        Assert.That(Encoding.UTF8.GetString(after.Result(Waits.Long)), Is.EqualTo("after"));
        pool.Shutdown(wait: true);

        Assert.That(recorder.Sum(FuturesTelemetry.Names.Submitted), Is.EqualTo(3));
        Assert.That(recorder.Sum(FuturesTelemetry.Names.Completed), Is.EqualTo(1));
        Assert.That(recorder.Sum(FuturesTelemetry.Names.Failed), Is.EqualTo(1));
        Assert.That(recorder.Sum(FuturesTelemetry.Names.Cancelled), Is.EqualTo(1));
        Assert.That(recorder.Sum(FuturesTelemetry.Names.WorkerStarts), Is.EqualTo(2));
        Assert.That(recorder.Sum(FuturesTelemetry.Names.WorkerDeaths), Is.EqualTo(1));
        Assert.That(recorder.Sum(FuturesTelemetry.Names.WorkerRestarts), Is.EqualTo(1));
        Assert.That(pool.Stats(), Is.EqualTo(new ExecutorStats(name, 3, 1, 1, 1, 0, 0, 2, 1, 1)));
    }

    [Test]
    public void ProcessPoolsAreNamed()
    {
        var unnamed = new ProcessPoolExecutor(new ProcessPoolExecutorOptions { FileName = "python3" });
        Assert.That(unnamed.Name, Does.Match(@"^ProcessPoolExecutor-\d+$"));
        unnamed.Shutdown();
        var named = new ProcessPoolExecutor(new ProcessPoolExecutorOptions { FileName = "python3", Name = "mine" });
        Assert.That(named.Name, Is.EqualTo("mine"));
        Assert.That(named.Stats().Name, Is.EqualTo("mine"));
        named.Shutdown();
    }

    private static ProcessPoolExecutor NewPool(string name, bool traceWorkers, bool isolateCrashes = false) =>
        new(new ProcessPoolExecutorOptions
        {
            FileName = ProcessPoolExecutorTests.s_python.Value,
            Arguments = [Path.Combine(TestContext.CurrentContext.TestDirectory, "workers", "echo_worker.py")],
            MaxWorkers = 1,
            Name = name,
            TraceWorkers = traceWorkers,
            IsolateCrashes = isolateCrashes,
            StartTimeout = Waits.Long,
        });

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>Listens to the engine's meter and activity source, keeping what concerns one executor.</summary>
    private sealed class Recorder : IDisposable
    {
        private readonly string _executor;
        private readonly MeterListener _meters = new();
        private readonly ActivityListener _activities;
        private readonly ConcurrentQueue<(string Instrument, double Value)> _measurements = new();
        private readonly ConcurrentQueue<Activity> _spans = new();

        public Recorder(string executor)
        {
            _executor = executor;
            _meters.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == FuturesTelemetry.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _meters.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
            _meters.SetMeasurementEventCallback<int>((i, v, tags, _) => Add(i, v, tags));
            _meters.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
            _meters.Start();
            _activities = new ActivityListener
            {
                ShouldListenTo = source => source.Name is FuturesTelemetry.ActivitySourceName or TestSourceName,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = activity =>
                {
                    if (activity.Source.Name == FuturesTelemetry.ActivitySourceName
                        && activity.GetTagItem(FuturesTelemetry.ExecutorTag) as string == _executor)
                    {
                        _spans.Enqueue(activity);
                    }
                },
            };
            ActivitySource.AddActivityListener(_activities);
        }

        public void Observe() => _meters.RecordObservableInstruments();

        public double Sum(string instrument) => _measurements.Where(m => m.Instrument == instrument).Sum(m => m.Value);

        public int Count(string instrument) => _measurements.Count(m => m.Instrument == instrument);

        public IEnumerable<double> Values(string instrument) => _measurements.Where(m => m.Instrument == instrument).Select(m => m.Value);

        public double Last(string instrument) => Values(instrument).Last();

        public List<Activity> Spans() => _spans.ToList();

        public void Dispose()
        {
            _meters.Dispose();
            _activities.Dispose();
        }

        private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
            {
                if (tag.Key == FuturesTelemetry.ExecutorTag && tag.Value as string == _executor)
                {
                    _measurements.Enqueue((instrument.Name, value));
                    return;
                }
            }
        }
    }
}
