namespace CsFutures.Cluster;

/// <summary>
/// Reads the cluster's active silos for one executor, through <see cref="IMembershipView"/> (answered by
/// whichever live gateway the executor reaches), and takes back the tasks of nodes that left.
/// A node is declared gone when it was seen active and is no longer, or when it holds tasks and has
/// not appeared active for <see cref="UnseenGrace"/> (it joined and died between two polls).
/// </summary>
internal sealed class MembershipWatcher
{
    internal static readonly TimeSpan UnseenGrace = TimeSpan.FromSeconds(10);

    /// <summary>Assigned tasks not reported started after this go back to the queue: well past the
    /// node's <see cref="TaskPuller.TakeTimeout"/>, so the node has given up that call. This happens when
    /// the answer to a Take is lost on its way back, e.g. through the executor's gateway node dying
    /// (measured: Redis membership, the gateway node SIGKILLed).</summary>
    internal static readonly TimeSpan StartReportTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(2);

    private readonly IMembershipView _membership;
    private readonly TaskQueue _queue;
    private readonly ClusterExecutorOptions _options;
    private readonly HashSet<string> _seenActive = [];
    private readonly Dictionary<string, DateTime> _firstHolding = [];
    private DateTime _lastAnswer = DateTime.UtcNow;

    internal MembershipWatcher(IMembershipView membership, TaskQueue queue, ClusterExecutorOptions options)
    {
        _membership = membership;
        _queue = queue;
        _options = options;
    }

    /// <summary>One poll; returns why the cluster is lost, or null.</summary>
    internal async Task<string?> PollAsync(CancellationToken token)
    {
        string[] hosts;
        try
        {
            hosts = await _membership.ActiveNodes().WaitAsync(CallTimeout, token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !token.IsCancellationRequested)
        {
            var silent = DateTime.UtcNow - _lastAnswer;
            return silent > _options.ClusterLostTimeout
                ? $"the cluster's membership has not answered for {silent.TotalSeconds:F1} s ({ex.GetType().Name}: {ex.Message}); " +
                  "under development clustering this happens when the primary node dies"
                : null;
        }
        _lastAnswer = DateTime.UtcNow;
        _queue.ReclaimUnstarted(StartReportTimeout);
        var active = hosts.ToHashSet();
        _seenActive.UnionWith(active);
        var now = DateTime.UtcNow;
        var holding = _queue.NodesHoldingTasks();
        foreach (var node in _firstHolding.Keys.Where(n => !holding.Contains(n)).ToList())
        {
            _firstHolding.Remove(node);
        }
        foreach (var node in holding)
        {
            if (active.Contains(node))
            {
                continue;
            }
            var first = _firstHolding.TryGetValue(node, out var at) ? at : _firstHolding[node] = now;
            if (_seenActive.Contains(node) || now - first > UnseenGrace)
            {
                _queue.NodeLost(node);
                _firstHolding.Remove(node);
            }
        }
        return null;
    }
}
