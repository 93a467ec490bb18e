using CsFutures.Cluster.Contracts;

namespace CsFutures.Cluster.Dashboard;

/// <summary>What <c>/api/cluster</c> answers (JSON, camelCase): the cluster as the
/// <see cref="DashboardSampler"/> last saw it.</summary>
/// <param name="Time">When it was taken (Unix milliseconds).</param>
/// <param name="Nodes">The silos of the membership, with their latest report.</param>
/// <param name="Executors">The executors in the directory, with their counts.</param>
/// <param name="Totals">The sums the page shows at its top.</param>
/// <param name="Rate">Tasks ended per second, over the last few seconds.</param>
/// <param name="History">Recent <paramref name="Rate"/>s, oldest first.</param>
internal sealed record ClusterSnapshot(
    long Time,
    IReadOnlyList<NodeView> Nodes,
    IReadOnlyList<ExecutorView> Executors,
    ClusterTotals Totals,
    double Rate,
    IReadOnlyList<RatePoint> History)
{
    /// <summary>Before the first sample.</summary>
    internal static readonly ClusterSnapshot Empty = new(0, [], [], new ClusterTotals(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 0, []);
}

/// <summary>One silo: its address and membership status; its workers and counters when it reported
/// lately (null otherwise).</summary>
internal sealed record NodeView(string Id, string Address, string Status, NodeStats? Stats);

/// <summary>One executor of the directory with its counts (null from one that sends none).</summary>
internal sealed record ExecutorView(Guid Id, ExecutorCounts? Stats);

/// <summary>The cluster's sums: active nodes; workers alive and busy on them; tasks of the executors
/// in the directory (submitted, queued, running, done, failed); what those executors recovered from
/// (tasks reclaimed from live nodes, watchdog actions, nodes lost).</summary>
internal sealed record ClusterTotals(int Nodes, int Workers, long Busy, int Executors, long Submitted, long Queued,
    long Running, long Done, long Failed, long Reclaimed, long WatchdogActions, long NodesLost);

/// <summary>A point of the tasks-per-second line.</summary>
internal sealed record RatePoint(long Time, double Rate);
