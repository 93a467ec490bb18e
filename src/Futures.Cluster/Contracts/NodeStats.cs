namespace CsFutures.Cluster.Contracts;

/// <summary>What a node reports to the <see cref="INodeStatsGrain"/> every second.</summary>
/// <param name="NodeId">The node's silo address (<c>SiloAddress.ToParsableString()</c>).</param>
/// <param name="Workers">Worker processes alive now.</param>
/// <param name="MaxWorkers">The node's number of worker processes when all are up.</param>
/// <param name="Busy">Workers running a task now (the tasks the node holds, up to its live workers).</param>
/// <param name="Started">Tasks handed to the node's workers since it started.</param>
/// <param name="Completed">Tasks that returned a result since it started.</param>
/// <param name="Failed">Tasks that ended otherwise since it started.</param>
[GenerateSerializer, Immutable, Alias("CsFutures.Cluster.Dashboard.NodeStats")]
public sealed record NodeStats(
    [property: Id(0)] string NodeId,
    [property: Id(1)] int Workers,
    [property: Id(2)] int MaxWorkers,
    [property: Id(3)] long Busy,
    [property: Id(4)] long Started,
    [property: Id(5)] long Completed,
    [property: Id(6)] long Failed);
