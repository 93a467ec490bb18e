using CsFutures.Cluster.Contracts;

namespace CsFutures.Cluster.Client;

/// <summary>
/// Reads the cluster's active silos for one executor, through <see cref="IMembershipViewGrain"/> (answered by
/// whichever live gateway the executor reaches), and takes back the tasks of nodes that left.
/// A node is declared gone when it was seen active and is no longer, or when it holds tasks and has
/// not appeared active for <see cref="UnseenGrace"/> (it joined and died between two polls).
/// </summary>
internal sealed class MembershipWatcher : IDisposable
{
    internal static readonly TimeSpan UnseenGrace = TimeSpan.FromSeconds(10);

    /// <summary>Assigned tasks not reported started after this go back to the queue: well past the
    /// node's <see cref="Node.TaskPuller.TakeTimeout"/>, so the node has given up that call. This happens when
    /// the answer to a Take is lost on its way back, e.g. through the executor's gateway node dying
    /// (measured: Redis membership, the gateway node SIGKILLed).</summary>
    internal static readonly TimeSpan StartReportTimeout = TimeSpan.FromSeconds(10);

    /// <summary>For <see cref="LossWindow"/> after a node was lost, assigned tasks not reported started
    /// after this go back to the queue: a node answers a Take with <see cref="ITaskSource.Starting"/>
    /// within milliseconds, so these are Take answers lost with the dead node (when it was the gateway
    /// they went through). A node that still starts one runs it twice; its second result is dropped.</summary>
    internal static readonly TimeSpan StartReportTimeoutAfterLoss = TimeSpan.FromSeconds(1.5);

    /// <summary>How long after a node's loss <see cref="StartReportTimeoutAfterLoss"/> applies.</summary>
    internal static readonly TimeSpan LossWindow = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(2);

    private readonly IMembershipViewGrain _membership;
    private readonly TaskQueue _queue;
    private readonly ClusterExecutorOptions _options;
    private readonly HashSet<string> _seenActive = [];
    private readonly Dictionary<string, DateTime> _firstHolding = [];
    private readonly NodeConnections? _connections;
    private DateTime _lastAnswer = DateTime.UtcNow;
    private long _lastLossTicks;

    private readonly Action<string> _log;

    internal MembershipWatcher(IMembershipViewGrain membership, TaskQueue queue, ClusterExecutorOptions options, Action<string>? log = null)
    {
        _log = log ?? (_ => { });
        _membership = membership;
        _queue = queue;
        _options = options;
        // Not under TLS: the nodes' TLS layer closes a connection that makes no handshake after 10 s and
        // logs a warning each time; those clusters are left to the membership.
        _connections = options.TlsCertificate is null ? new NodeConnections(OnConnectionLost) : null;
    }

    // A closed connection is evidence: the node's tasks go back to the queue now, not after Orleans' probes.
    private void OnConnectionLost(string node, string why)
    {
        Volatile.Write(ref _lastLossTicks, DateTime.UtcNow.Ticks);
        _log($"node {node} lost: {why}");
        _queue.NodeLost(node, why);
    }

    private bool RecentLoss => DateTime.UtcNow.Ticks - Volatile.Read(ref _lastLossTicks) < LossWindow.Ticks;

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
        _queue.ReclaimUnstarted(RecentLoss ? StartReportTimeoutAfterLoss : StartReportTimeout);
        var active = hosts.ToHashSet();
        _seenActive.UnionWith(active);
        var now = DateTime.UtcNow;
        var holding = _queue.NodesHoldingTasks();
        _connections?.Watch(active.Concat(holding));
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
                Volatile.Write(ref _lastLossTicks, now.Ticks);
                string why = _seenActive.Contains(node) ? "the membership no longer lists it active" : $"it was never seen active in {UnseenGrace.TotalSeconds:F0} s";
                _log($"node {node} lost: {why}");
                _queue.NodeLost(node, why);
                _firstHolding.Remove(node);
            }
        }
        return null;
    }

    public void Dispose() => _connections?.Dispose();
}
