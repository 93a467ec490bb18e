using System.Diagnostics;
using System.Diagnostics.Metrics;
using CsFutures.Interop.Processes;
using Python.Runtime;
using CsFutures.Interop.Runtime;
using CsFutures.Telemetry;

namespace CsFutures.Interop.Tests;

/// <summary>
/// Spans and metrics of Python work hosted in .NET: a process pool of real Python workers
/// (<c>_cs_futures_worker/_worker.py</c>, which never loads .NET) receives each task's trace context and
/// reports its run's times, from which the pool builds the task's span as a child of the submitter's.
/// </summary>
public sealed class TelemetryTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private const string TestSourceName = "Futures.Interop.Tests.Telemetry";
    private static readonly ActivitySource s_testSource = new(TestSourceName);

    private static PyObject Fn(string name) => PythonFixture.Runtime.GetCallable(PythonFixture.TestModule, name);

    [Test]
    public void APythonWorkersTaskIsAChildSpanOfTheSubmitterBuiltFromTheWorkersTimes()
    {
        string name = "interop-telemetry-" + Guid.NewGuid().ToString("N")[..8];
        var spans = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is FuturesTelemetry.ActivitySourceName or TestSourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.GetTagItem(FuturesTelemetry.ExecutorTag) as string == name)
                {
                    lock (spans)
                    {
                        spans.Add(activity);
                    }
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        long failed = 0;
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == FuturesTelemetry.MeterName && instrument.Name == FuturesTelemetry.Names.Failed)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Value as string == name)
                {
                    Interlocked.Add(ref failed, value);
                }
            }
        });
        meters.Start();

        string? seen;
        Activity submitter;
        PythonProcessPoolExecutor stats;
        using (var pool = new PythonProcessPoolExecutor(PythonFixture.Runtime, new PythonProcessPoolOptions { MaxWorkers = 1, Name = name }))
        {
            Future<string?> traced;
            Future<object?> failing;
            using (submitter = s_testSource.StartActivity("submitter")!)
            {
                traced = pool.SubmitPython<string?>(Fn("current_traceparent"));
                failing = pool.SubmitPython<object?>(Fn("fail"), "boom");
            }
            seen = traced.Result(Timeout);
            Assert.That(failing.Exception(Timeout), Is.TypeOf<PythonRaisedException>());
            stats = pool;
        }
        // Read after the shutdown: a task is counted just after its future completes, so a read right
        // after result() may not include it yet; once the pool is joined the counts are exact.
        Assert.That(stats.Stats(), Is.EqualTo(new ExecutorStats(name, 2, 1, 1, 0, 0, 0, 1, 0, 0)));

        Assert.That(spans, Has.Count.EqualTo(2));
        Assert.That(spans.Select(s => s.ParentSpanId), Is.All.EqualTo(submitter.SpanId));
        Assert.That(spans.Select(s => s.TraceId), Is.All.EqualTo(submitter.TraceId));
        Assert.That(spans.Select(s => s.GetTagItem("csfutures.timing")), Is.All.EqualTo("worker"), "timed by the worker process");
        var tracedSpan = spans.Single(s => s.Status != ActivityStatusCode.Error);
        Assert.That(seen, Is.EqualTo(tracedSpan.Id), "the worker saw its task's own span as the trace context");
        Assert.That(spans.Single(s => s.Status == ActivityStatusCode.Error).GetTagItem(FuturesTelemetry.OutcomeTag), Is.EqualTo("failed"));
        Assert.That(Interlocked.Read(ref failed), Is.EqualTo(1));
    }

    [Test]
    public void WithoutAListenerTheWorkerGetsNoTraceContext()
    {
        using var pool = new PythonProcessPoolExecutor(PythonFixture.Runtime, new PythonProcessPoolOptions { MaxWorkers = 1 });
        Assert.That(pool.SubmitPython<string?>(Fn("current_traceparent")).Result(Timeout), Is.Null);
        Assert.That(pool.Engine.Name, Does.StartWith("ProcessPoolExecutor-"));
    }
}
