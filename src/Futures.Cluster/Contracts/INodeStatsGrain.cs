namespace CsFutures.Cluster.Contracts;

/// <summary>
/// Where nodes report their counters (<see cref="NodeStats"/>) every second, for the dashboard: one
/// grain (key 0), in memory only. A report not refreshed for <see cref="Grains.NodeStatsGrain.Expiry"/> is
/// forgotten.
/// </summary>
[Alias("CsFutures.Cluster.Dashboard.INodeStatsGrain")]
public interface INodeStatsGrain : IGrainWithIntegerKey
{
    /// <summary>Adds or refreshes a node's report.</summary>
    [Alias("Report")]
    Task Report(NodeStats stats);

    /// <summary>The reports of the nodes that reported lately.</summary>
    [Alias("List")]
    Task<NodeStats[]> List();
}
