using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using CsFutures.Processes;
using CsFutures.Telemetry;

namespace Futures.Cluster.Tests;

/// <summary>
/// The cluster layer's metrics and spans (<see cref="ClusterTelemetry"/>), read as OpenTelemetry reads
/// them, with the embedded node: executor, node and worker pool all live in this process, so one
/// <see cref="MeterListener"/> and one <see cref="ActivityListener"/> see both sides.
/// </summary>
[NonParallelizable]
public sealed class ClusterTelemetryTests
{
    private const string TestSourceName = "Futures.Cluster.Tests.Telemetry";
    private static readonly ActivitySource s_testSource = new(TestSourceName);
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    private readonly List<ClusterExecutor> _executors = [];

    [TearDown]
    public void TearDown()
    {
        foreach (var executor in _executors)
        {
            executor.ShutdownAsync(cancelFutures: true).Wait(TimeSpan.FromSeconds(30));
        }
        _executors.Clear();
    }

    [Test]
    public void CountersMoveByExactlyTheTasksOfTheExecutor()
    {
        string name = "cluster-telemetry-" + Guid.NewGuid().ToString("N")[..8];
        using var recorder = new Recorder(name);
        var executor = Embedded(name);
        Assert.That(executor.Name, Is.EqualTo(name));
        const int n = 20, k = 5;
        var futures = Enumerable.Range(0, n).Select(i => executor.Submit(Utf8(i < k ? $"fail:f{i}" : $"echo:e{i}"))).ToList();
        for (int i = 0; i < n; i++)
        {
            var error = futures[i].Exception(Long);
            if (i < k)
            {
                Assert.That(error, Is.TypeOf<WorkerTaskException>());
            }
            else
            {
                Assert.That(error, Is.Null);
                Assert.That(Text(futures[i].Result(Long)), Is.EqualTo($"e{i}"));
            }
        }
        Assert.That(recorder.Sum(ClusterTelemetry.Names.Submitted), Is.EqualTo(n));
        Assert.That(recorder.Sum(ClusterTelemetry.Names.Completed), Is.EqualTo(n - k));
        Assert.That(recorder.Sum(ClusterTelemetry.Names.Failed), Is.EqualTo(k));
        Assert.That(recorder.Sum(ClusterTelemetry.Names.Cancelled), Is.EqualTo(0));
        Assert.That(recorder.Sum(ClusterTelemetry.Names.AttemptsLost), Is.EqualTo(0));
        Assert.That(recorder.Sum(ClusterTelemetry.Names.LateResultsDropped), Is.EqualTo(0));
        Assert.That(recorder.Untagged, Is.EqualTo(0), "every measurement is tagged with an executor name");

        recorder.Observe();
        Assert.That(recorder.Last(ClusterTelemetry.Names.QueueLength), Is.EqualTo(0));
        Assert.That(recorder.Last(ClusterTelemetry.Names.InFlight), Is.EqualTo(0));
        executor.Shutdown();
        recorder.Clear();
        recorder.Observe();
        Assert.That(recorder.Last(ClusterTelemetry.Names.QueueLength), Is.Null, "a stopped executor is no longer observed");
    }

    [Test]
    public void TasksCancelledWhileQueuedAreCountedOnce()
    {
        string name = "cluster-cancel-" + Guid.NewGuid().ToString("N")[..8];
        using var recorder = new Recorder(name);
        var executor = Embedded(name, maxInFlight: 1);
        var sleeper = executor.Submit(Utf8("sleep:1"));
        var doomed = Enumerable.Range(0, 3).Select(i => executor.Submit(Utf8($"echo:{i}"))).ToList();
        Assert.That(doomed.All(f => f.Cancel()), Is.True, "one task in flight: the others wait in the queue");
        Assert.That(Text(sleeper.Result(Long)), Is.EqualTo("slept"));
        executor.Shutdown();
        Assert.That(recorder.Sum(ClusterTelemetry.Names.Submitted), Is.EqualTo(4));
        Assert.That(recorder.Sum(ClusterTelemetry.Names.Completed), Is.EqualTo(1));
        Assert.That(recorder.Sum(ClusterTelemetry.Names.Failed), Is.EqualTo(0));
        Assert.That(recorder.Sum(ClusterTelemetry.Names.Cancelled), Is.EqualTo(3));
        var stats = executor.Stats();
        Assert.That((stats.Name, stats.Submitted, stats.Completed, stats.Failed, stats.Cancelled, stats.Queued),
            Is.EqualTo((name, 4L, 1L, 0L, 3L, 0L)), "Stats() in the engine's terms: the cancelled apart from the failed");
    }

    [Test]
    public void ANodesTaskSpanIsAChildOfTheSubmittersAndParentOfThePoolsSpan()
    {
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is ClusterTelemetry.ActivitySourceName or FuturesTelemetry.ActivitySourceName or TestSourceName,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        var executor = Embedded(null);
        Assert.That(executor.Name, Does.StartWith("ClusterExecutor-"));

        Activity submitter;
        Future<byte[]> echo, traceParent;
        using (submitter = s_testSource.StartActivity("submitter")!)
        {
            Assert.That(submitter, Is.Not.Null);
            echo = executor.Submit(Utf8("echo:traced"));
            traceParent = executor.Submit(Utf8("traceparent?"));
        }
        Assert.That(Text(echo.Result(Long)), Is.EqualTo("traced"));
        string seenByWorker = Text(traceParent.Result(Long));

        var trace = submitter.TraceId;
        List<Activity> InTrace(string source, string name) =>
            stopped.Where(a => a.TraceId == trace && a.Source.Name == source && a.OperationName == name).ToList();
        Assert.That(Eventually(() => InTrace(FuturesTelemetry.ActivitySourceName, FuturesTelemetry.TaskActivityName).Count == 2, Long), Is.True,
            "the node pool's two task spans ended in the submitter's trace");

        var nodeSpans = InTrace(ClusterTelemetry.ActivitySourceName, ClusterTelemetry.TaskActivityName);
        Assert.That(nodeSpans, Has.Count.EqualTo(2), "one node span per task");
        foreach (var span in nodeSpans)
        {
            Assert.That(span.ParentId, Is.EqualTo(submitter.Id));
            Assert.That(span.ParentSpanId, Is.EqualTo(submitter.SpanId));
            Assert.That(span.TraceId, Is.EqualTo(submitter.TraceId));
            Assert.That(span.GetTagItem(ClusterTelemetry.NodeTag), Is.Not.Null.And.Not.Empty);
            Assert.That(span.GetTagItem(ClusterTelemetry.TaskIdTag), Is.Not.Null);
            Assert.That(span.GetTagItem(FuturesTelemetry.OutcomeTag), Is.EqualTo("completed"));
        }
        var poolSpans = InTrace(FuturesTelemetry.ActivitySourceName, FuturesTelemetry.TaskActivityName);
        Assert.That(poolSpans.Select(s => s.ParentSpanId).ToHashSet(), Is.EquivalentTo(nodeSpans.Select(s => s.SpanId).ToHashSet()),
            "each pool span is the child of one node span");
        Assert.That(poolSpans.Select(s => s.Id), Does.Contain(seenByWorker),
            "the worker process received its pool span's traceparent (TraceWorkers on the node's pool)");
    }

    [Test]
    public void WithoutListenersTheNodesWorkersGetPlainTasks()
    {
        var executor = Embedded(null);
        Assert.That(Activity.Current, Is.Null);
        // Without listeners the node pool sends plain Task frames: the echo worker answers this command
        // only for a traced task.
        var reply = executor.Submit(Utf8("traceparent?"));
        Assert.That(reply.Exception(Long), Is.TypeOf<WorkerTaskException>());
    }

    private ClusterExecutor Embedded(string? name, int? maxInFlight = null)
    {
        var executor = new ClusterExecutor(new ClusterExecutorOptions
        {
            Name = name,
            MaxInFlight = maxInFlight,
            LocalWorker = new ProcessPoolExecutorOptions
            {
                FileName = NodeProcess.Python.Value,
                Arguments = [Path.Combine(AppContext.BaseDirectory, "workers", "echo_worker.py")],
                MaxWorkers = 2,
                TraceWorkers = true, // the echo worker answers FrameKind.TracedTask
            },
        });
        _executors.Add(executor);
        return executor;
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static string Text(byte[] data) => Encoding.UTF8.GetString(data);

    private static bool Eventually(Func<bool> condition, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > timeout)
            {
                return false;
            }
            Thread.Sleep(20);
        }
        return true;
    }

    /// <summary>The cluster meter's measurements for one executor (by its name tag).</summary>
    private sealed class Recorder : IDisposable
    {
        private readonly string _executor;
        private readonly MeterListener _listener = new();
        private readonly ConcurrentDictionary<string, long> _sums = new();
        private readonly ConcurrentDictionary<string, long> _last = new();
        private long _untagged;

        public Recorder(string executor)
        {
            _executor = executor;
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == ClusterTelemetry.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>(OnMeasurement);
            _listener.Start();
        }

        public long Untagged => Interlocked.Read(ref _untagged);

        public long Sum(string instrument) => _sums.GetValueOrDefault(instrument);

        public long? Last(string instrument) => _last.TryGetValue(instrument, out long value) ? value : null;

        public void Observe() => _listener.RecordObservableInstruments();

        public void Clear() => _last.Clear();

        public void Dispose() => _listener.Dispose();

        private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
        {
            string? executor = null;
            foreach (var tag in tags)
            {
                if (tag.Key == FuturesTelemetry.ExecutorTag)
                {
                    executor = tag.Value as string;
                }
            }
            if (executor is null)
            {
                Interlocked.Increment(ref _untagged);
                return;
            }
            if (executor != _executor)
            {
                return;
            }
            if (instrument is ObservableGauge<long>)
            {
                _last[instrument.Name] = value;
            }
            else
            {
                _sums.AddOrUpdate(instrument.Name, value, (_, old) => old + value);
            }
        }
    }
}
