using System.Diagnostics.Metrics;
using System.Diagnostics;
using CsFutures.Cluster.Client;
using CsFutures.Processes;
using CsFutures.Telemetry;

namespace CsFutures.Cluster;

/// <summary>
/// The names under which the cluster layer publishes metrics (<see cref="Meter"/>) and traces
/// (<see cref="System.Diagnostics.ActivitySource"/>), beside the engine's <see cref="FuturesTelemetry"/>
/// (a node's local process pool still reports there): OpenTelemetry reads them with
/// <c>AddMeter(ClusterTelemetry.MeterName)</c> and <c>AddSource(ClusterTelemetry.ActivitySourceName)</c>.
/// </summary>
/// <remarks>
/// <para>Executor measurements are tagged <see cref="FuturesTelemetry.ExecutorTag"/> with
/// <see cref="ClusterExecutor.Name"/>. Without a listener, an executor checks
/// <see cref="Instrument.Enabled"/> and allocates nothing.</para>
/// <para>Traces: a task submitted while an <see cref="Activity"/> is current carries that activity's
/// W3C id to the node that takes it; the node runs it under a <see cref="TaskActivityName"/> activity
/// whose parent is the submitter's, so the node pool's <see cref="FuturesTelemetry.TaskActivityName"/>
/// span (and the worker process's own, with <see cref="ProcessPoolExecutorOptions.TraceWorkers"/>)
/// are its children.</para>
/// </remarks>
public static class ClusterTelemetry
{
    /// <summary>The name of the cluster layer's <see cref="Meter"/>.</summary>
    public const string MeterName = "CsFutures.Cluster";

    /// <summary>The name of the cluster layer's <see cref="System.Diagnostics.ActivitySource"/> (the same as <see cref="MeterName"/>).</summary>
    public const string ActivitySourceName = "CsFutures.Cluster";

    /// <summary>The name of the activity (span) of one task's run on a node; its parent is the activity
    /// that was current when the task was submitted (in the executor's process).</summary>
    public const string TaskActivityName = "csfutures.cluster.task";

    /// <summary>The tag naming the node (its silo address) on a <see cref="TaskActivityName"/> activity.</summary>
    public const string NodeTag = "csfutures.node";

    /// <summary>The tag holding the task's id within its executor on a <see cref="TaskActivityName"/> activity.</summary>
    public const string TaskIdTag = "csfutures.task.id";

    /// <summary>Instrument names, as exported.</summary>
    public static class Names
    {
        /// <summary>Counter: tasks accepted by submit (an oversized payload too: it then fails).</summary>
        public const string Submitted = "csfutures.cluster.tasks.submitted";

        /// <summary>Counter: tasks that returned a result.</summary>
        public const string Completed = "csfutures.cluster.tasks.completed";

        /// <summary>Counter: tasks that failed (an error reply, a time limit, attempts used up, an
        /// oversized payload or result, a lost cluster).</summary>
        public const string Failed = "csfutures.cluster.tasks.failed";

        /// <summary>Counter: tasks cancelled before a node took them.</summary>
        public const string Cancelled = "csfutures.cluster.tasks.cancelled";

        /// <summary>Counter: attempts lost after their node reported them started (the node or its
        /// worker process died).</summary>
        public const string AttemptsLost = "csfutures.cluster.attempts.lost";

        /// <summary>Counter: results from a node no longer holding their task, dropped.</summary>
        public const string LateResultsDropped = "csfutures.cluster.results.late_dropped";

        /// <summary>Counter: nodes whose tasks were taken back because they were lost (their connection
        /// closed and their endpoint refused a new one, or the membership no longer lists them).</summary>
        public const string NodesLost = "csfutures.cluster.nodes.lost";

        /// <summary>Counter: tasks taken back from a live node without an attempt counted (never
        /// reported started, or held by a node that reports holding none).</summary>
        public const string Reclaimed = "csfutures.cluster.tasks.reclaimed";

        /// <summary>Counter: actions of the executor's watchdog (a registration made again, tasks taken
        /// back from a node that holds none, a stall given up).</summary>
        public const string WatchdogActions = "csfutures.cluster.watchdog.actions";

        /// <summary>Observable gauge: tasks waiting for a node.</summary>
        public const string QueueLength = "csfutures.cluster.queue.length";

        /// <summary>Observable gauge: tasks held by nodes.</summary>
        public const string InFlight = "csfutures.cluster.tasks.in_flight";
    }

    private static readonly string? s_version = typeof(ClusterTelemetry).Assembly.GetName().Version?.ToString();

    internal static readonly Meter Meter = new(MeterName, s_version);
    internal static readonly ActivitySource Source = new(ActivitySourceName, s_version);

    internal static readonly Counter<long> Submitted = Meter.CreateCounter<long>(Names.Submitted, "{task}", "Tasks submitted to a cluster executor");
    internal static readonly Counter<long> Completed = Meter.CreateCounter<long>(Names.Completed, "{task}", "Cluster tasks that returned a result");
    internal static readonly Counter<long> Failed = Meter.CreateCounter<long>(Names.Failed, "{task}", "Cluster tasks that failed");
    internal static readonly Counter<long> Cancelled = Meter.CreateCounter<long>(Names.Cancelled, "{task}", "Cluster tasks cancelled before a node took them");
    internal static readonly Counter<long> AttemptsLost = Meter.CreateCounter<long>(Names.AttemptsLost, "{attempt}", "Started attempts lost with their node or worker");
    internal static readonly Counter<long> LateResultsDropped = Meter.CreateCounter<long>(Names.LateResultsDropped, "{result}", "Results from a node no longer holding their task");

    internal static readonly Counter<long> NodesLost = Meter.CreateCounter<long>(Names.NodesLost, "{node}", "Nodes whose tasks were taken back because they were lost");
    internal static readonly Counter<long> Reclaimed = Meter.CreateCounter<long>(Names.Reclaimed, "{task}", "Tasks taken back from a live node without an attempt counted");
    internal static readonly Counter<long> WatchdogActions = Meter.CreateCounter<long>(Names.WatchdogActions, "{action}", "Actions of the cluster executor's watchdog");

    private static readonly List<WeakReference<TaskQueue>> s_live = [];

    static ClusterTelemetry()
    {
        Meter.CreateObservableGauge(Names.QueueLength, () => Observe(static q => q.QueuedCount), "{task}", "Tasks waiting for a node");
        Meter.CreateObservableGauge(Names.InFlight, () => Observe(static q => q.InFlightCount), "{task}", "Tasks held by nodes");
    }

    /// <summary>Registers an executor's queue for the observable gauges (held weakly, until it closes).</summary>
    internal static void Register(TaskQueue queue)
    {
        lock (s_live)
        {
            if (s_live.Count > 64)
            {
                s_live.RemoveAll(w => !w.TryGetTarget(out var q) || q.IsClosed);
            }
            s_live.Add(new WeakReference<TaskQueue>(queue));
        }
    }

    /// <summary>Adds <paramref name="count"/> to <paramref name="counter"/> tagged with the executor,
    /// when something listens.</summary>
    internal static void Add(Counter<long> counter, long count, KeyValuePair<string, object?> tag)
    {
        if (count > 0 && counter.Enabled)
        {
            counter.Add(count, tag);
        }
    }

    private static IEnumerable<Measurement<long>> Observe(Func<TaskQueue, long> read)
    {
        TaskQueue[] live;
        lock (s_live)
        {
            live = s_live.Select(w => w.TryGetTarget(out var q) && !q.IsClosed ? q : null).OfType<TaskQueue>().ToArray();
        }
        return live.Select(q => new Measurement<long>(read(q), q.Tag));
    }
}
