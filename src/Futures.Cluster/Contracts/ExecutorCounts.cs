namespace CsFutures.Cluster.Contracts;

/// <summary>An executor's task counts, sent with its registration every second (see
/// <see cref="IExecutorDirectoryGrain.Register(Guid, ITaskSource, ExecutorCounts)"/>). Taken at one instant:
/// <c>Queued + Running + Done + Failed == Submitted</c>.</summary>
/// <param name="Submitted">Tasks submitted since the executor was created.</param>
/// <param name="Queued">Tasks waiting for a node.</param>
/// <param name="Running">Tasks held by nodes.</param>
/// <param name="Done">Tasks that returned a result.</param>
/// <param name="Failed">Tasks that ended otherwise: an error reply, a time-out, attempts used up, too large
/// a payload, cancelled, or failed when the cluster was lost.</param>
/// <param name="Reclaimed">Tasks taken back from live nodes (<see cref="ClusterExecutor.Reclaimed"/>).</param>
/// <param name="WatchdogActions">The watchdog's actions (<see cref="ClusterExecutor.WatchdogActions"/>).</param>
/// <param name="NodesLost">Nodes whose tasks were taken back because they were lost
/// (<see cref="ClusterExecutor.NodesLost"/>).</param>
[GenerateSerializer, Immutable, Alias("CsFutures.Cluster.Dashboard.ExecutorCounts")]
public sealed record ExecutorCounts(
    [property: Id(0)] long Submitted,
    [property: Id(1)] long Queued,
    [property: Id(2)] long Running,
    [property: Id(3)] long Done,
    [property: Id(4)] long Failed,
    [property: Id(5)] long Reclaimed = 0,
    [property: Id(6)] long WatchdogActions = 0,
    [property: Id(7)] long NodesLost = 0);
