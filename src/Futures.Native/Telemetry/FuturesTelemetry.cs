using System.Diagnostics;
using System.Diagnostics.Metrics;
using CsFutures.Processes;

namespace CsFutures.Telemetry;

/// <summary>
/// The names under which the executors publish metrics (<see cref="Meter"/>) and traces
/// (<see cref="System.Diagnostics.ActivitySource"/>), .NET's own APIs that OpenTelemetry reads
/// (<c>AddMeter(FuturesTelemetry.MeterName)</c>, <c>AddSource(FuturesTelemetry.ActivitySourceName)</c>).
/// CPython's <c>concurrent.futures</c> has no counterpart; Python users read the same counters through
/// <c>executor.stats()</c> (see <see cref="ExecutorStats"/>).
/// </summary>
/// <remarks>
/// <para>Every measurement is tagged <see cref="ExecutorTag"/> with the executor's name: a thread
/// pool's <see cref="ThreadPoolExecutor.ThreadNamePrefix"/>, a process pool's
/// <see cref="ProcessPoolExecutor.Name"/>.</para>
/// <para>With no listener attached, an executor does an interlocked increment per counter (for
/// <see cref="ExecutorStats"/>) and checks <see cref="Instrument.Enabled"/> and
/// <see cref="System.Diagnostics.ActivitySource.HasListeners"/>: no clock reads, no allocations.</para>
/// </remarks>
public static class FuturesTelemetry
{
    /// <summary>The name of the engine's <see cref="Meter"/> and <see cref="System.Diagnostics.ActivitySource"/>.</summary>
    public const string MeterName = "CsFutures";

    /// <summary>The name of the engine's <see cref="System.Diagnostics.ActivitySource"/> (the same as <see cref="MeterName"/>).</summary>
    public const string ActivitySourceName = "CsFutures";

    /// <summary>The name of the activity (span) of one task's run; its parent is the activity that was
    /// current when the task was submitted.</summary>
    public const string TaskActivityName = "csfutures.task";

    /// <summary>The tag naming the executor on every measurement and task activity.</summary>
    public const string ExecutorTag = "executor.name";

    /// <summary>The tag on a task activity saying how it ended: <c>completed</c>, <c>failed</c> or <c>cancelled</c>.</summary>
    public const string OutcomeTag = "csfutures.outcome";

    /// <summary>Instrument names, as exported.</summary>
    public static class Names
    {
        /// <summary>Counter: tasks accepted by submit.</summary>
        public const string Submitted = "csfutures.tasks.submitted";

        /// <summary>Counter: tasks that returned a result.</summary>
        public const string Completed = "csfutures.tasks.completed";

        /// <summary>Counter: tasks that raised (or whose worker died, or that timed out).</summary>
        public const string Failed = "csfutures.tasks.failed";

        /// <summary>Counter: tasks cancelled before they ran.</summary>
        public const string Cancelled = "csfutures.tasks.cancelled";

        /// <summary>Observable gauge: tasks queued, not yet taken by a worker.</summary>
        public const string QueueLength = "csfutures.queue.length";

        /// <summary>Observable gauge: live workers (threads or processes).</summary>
        public const string LiveWorkers = "csfutures.workers.live";

        /// <summary>Histogram (seconds): how long a task ran.</summary>
        public const string Duration = "csfutures.task.duration";

        /// <summary>Histogram (seconds): how long a task waited in the queue before a worker took it.</summary>
        public const string QueueWait = "csfutures.task.queue_wait";

        /// <summary>Counter: worker processes started by a process pool.</summary>
        public const string WorkerStarts = "csfutures.process.worker.starts";

        /// <summary>Counter: worker processes that ended unexpectedly (crashed, killed, timed out).</summary>
        public const string WorkerDeaths = "csfutures.process.worker.deaths";

        /// <summary>Counter: replacement worker processes started after one left (died or reached
        /// <c>max_tasks_per_child</c>).</summary>
        public const string WorkerRestarts = "csfutures.process.worker.restarts";
    }

    private static readonly string? s_version = typeof(FuturesTelemetry).Assembly.GetName().Version?.ToString();

    internal static readonly Meter Meter = new(MeterName, s_version);
    internal static readonly ActivitySource Source = new(ActivitySourceName, s_version);

    internal static readonly Counter<long> Submitted = Meter.CreateCounter<long>(Names.Submitted, "{task}", "Tasks submitted");
    internal static readonly Counter<long> Completed = Meter.CreateCounter<long>(Names.Completed, "{task}", "Tasks that returned a result");
    internal static readonly Counter<long> Failed = Meter.CreateCounter<long>(Names.Failed, "{task}", "Tasks that failed");
    internal static readonly Counter<long> Cancelled = Meter.CreateCounter<long>(Names.Cancelled, "{task}", "Tasks cancelled before they ran");
    internal static readonly Histogram<double> Duration = Meter.CreateHistogram<double>(Names.Duration, "s", "Time a task ran");
    internal static readonly Histogram<double> QueueWait = Meter.CreateHistogram<double>(Names.QueueWait, "s", "Time a task waited for a worker");
    internal static readonly Counter<long> WorkerStarts = Meter.CreateCounter<long>(Names.WorkerStarts, "{process}", "Worker processes started");
    internal static readonly Counter<long> WorkerDeaths = Meter.CreateCounter<long>(Names.WorkerDeaths, "{process}", "Worker processes that ended unexpectedly");
    internal static readonly Counter<long> WorkerRestarts = Meter.CreateCounter<long>(Names.WorkerRestarts, "{process}", "Replacement worker processes started");

    private static readonly List<WeakReference<ExecutorCounters>> s_live = [];

    static FuturesTelemetry()
    {
        Meter.CreateObservableGauge(Names.QueueLength, () => Observe(static c => c.Queued()), "{task}", "Tasks waiting for a worker");
        Meter.CreateObservableGauge(Names.LiveWorkers, () => Observe(static c => c.Workers()), "{worker}", "Live workers");
    }

    /// <summary>Registers an executor's counters for the observable gauges (held weakly).</summary>
    internal static void Register(ExecutorCounters counters)
    {
        lock (s_live)
        {
            if (s_live.Count > 64)
            {
                s_live.RemoveAll(w => !w.TryGetTarget(out _));
            }
            s_live.Add(new WeakReference<ExecutorCounters>(counters));
        }
    }

    private static IEnumerable<Measurement<long>> Observe(Func<ExecutorCounters, long> read)
    {
        ExecutorCounters[] live;
        lock (s_live)
        {
            live = s_live.Select(w => w.TryGetTarget(out var c) ? c : null).OfType<ExecutorCounters>().ToArray();
        }
        return live.Select(c => new Measurement<long>(read(c), c.Tag));
    }
}
