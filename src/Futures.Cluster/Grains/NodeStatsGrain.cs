using CsFutures.Cluster.Contracts;

namespace CsFutures.Cluster.Grains;

/// <summary>The <see cref="INodeStatsGrain"/> grain: the nodes' latest reports, in memory only (nodes
/// refill it every second).</summary>
internal sealed class NodeStatsGrain : Grain, INodeStatsGrain
{
    /// <summary>How long a report lives without a refresh.</summary>
    internal static readonly TimeSpan Expiry = TimeSpan.FromSeconds(5);

    private readonly Dictionary<string, (NodeStats Stats, DateTime Seen)> _reports = [];

    public Task Report(NodeStats stats)
    {
        _reports[stats.NodeId] = (stats, DateTime.UtcNow);
        return Task.CompletedTask;
    }

    public Task<NodeStats[]> List()
    {
        var now = DateTime.UtcNow;
        foreach (var stale in _reports.Where(r => now - r.Value.Seen > Expiry).Select(r => r.Key).ToList())
        {
            _reports.Remove(stale);
        }
        return Task.FromResult(_reports.Values.Select(r => r.Stats).ToArray());
    }
}
