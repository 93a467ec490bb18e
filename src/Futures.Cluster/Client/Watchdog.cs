using CsFutures.Cluster.Contracts;

namespace CsFutures.Cluster.Client;

/// <summary>
/// The executor's watchdog (issue 22): checks every <see cref="Period"/> that work makes progress, from
/// what the nodes report (<see cref="INodeStatsGrain"/>: workers alive and busy, every second) and what
/// the executor sees (the last <see cref="ITaskSource.Take"/>, the tasks each node holds).
/// <list type="bullet">
/// <item><b>Queued work with idle live nodes</b>: tasks are queued, no node has called <c>Take</c> for
/// <see cref="StallBound"/>, and a node reports idle workers. It logs the state and registers the
/// executor again at once (nodes start pulling from an executor the directory lists), again every
/// <see cref="StallBound"/> while the stall lasts. When it lasts <see cref="GiveUpAfter"/>, the
/// pending futures fail with <see cref="ClusterUnavailableException"/> (the executor breaks): idle
/// nodes that do not pull from it will not run its work.</item>
/// <item><b>Tasks held by a node that holds none</b>: a node holding this executor's tasks reports no
/// busy worker for <see cref="OrphanBound"/>; the tasks assigned to it before then go back to the
/// queue (counted in <see cref="ClusterExecutor.Reclaimed"/>; a result it still sends is dropped).</item>
/// </list>
/// Each action is counted (<see cref="ClusterExecutor.WatchdogActions"/>) and logged.
/// </summary>
internal sealed class Watchdog
{
    internal static readonly TimeSpan Period = TimeSpan.FromSeconds(1);
    internal static readonly TimeSpan StallBound = TimeSpan.FromSeconds(10);
    internal static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(60);
    internal static readonly TimeSpan OrphanBound = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(2);

    private readonly TimeSpan _stallBound;
    private readonly TimeSpan _giveUpAfter;
    private readonly TimeSpan _orphanBound;
    private readonly TaskQueue _queue;
    private readonly INodeStatsGrain _stats;
    private readonly Func<Task> _register;
    private readonly Action<string> _log;
    private readonly Dictionary<string, DateTime> _idleHolding = [];
    private DateTime _next = DateTime.MinValue;
    private DateTime? _stallSince;
    private DateTime _lastAction;

    /// <param name="queue">The executor's queue.</param>
    /// <param name="stats">The nodes' reports.</param>
    /// <param name="register">Registers the executor in the directory again.</param>
    /// <param name="log">The executor's log.</param>
    /// <param name="stallBound">Instead of <see cref="StallBound"/> (tests).</param>
    /// <param name="giveUpAfter">Instead of <see cref="GiveUpAfter"/> (tests).</param>
    /// <param name="orphanBound">Instead of <see cref="OrphanBound"/> (tests).</param>
    internal Watchdog(TaskQueue queue, INodeStatsGrain stats, Func<Task> register, Action<string> log,
        TimeSpan? stallBound = null, TimeSpan? giveUpAfter = null, TimeSpan? orphanBound = null)
    {
        _stallBound = stallBound ?? StallBound;
        _giveUpAfter = giveUpAfter ?? GiveUpAfter;
        _orphanBound = orphanBound ?? OrphanBound;
        _queue = queue;
        _stats = stats;
        _register = register;
        _log = log;
    }

    /// <summary>One check (at most one a <see cref="Period"/>); returns why the executor gives up, or null.</summary>
    internal async Task<string?> CheckAsync(CancellationToken token)
    {
        var now = DateTime.UtcNow;
        if (now < _next)
        {
            return null;
        }
        _next = now + Period;
        var holding = _queue.NodesHoldingTasks();
        int queued = _queue.QueuedCount;
        bool noTake = now - _queue.LastTake > _stallBound;
        if (holding.Count == 0 && !(queued > 0 && noTake))
        {
            _idleHolding.Clear();
            _stallSince = null;
            return null; // nothing to watch: no report needed
        }
        NodeStats[] reports;
        try
        {
            reports = await _stats.List().WaitAsync(CallTimeout, token).ConfigureAwait(false);
        }
        catch (Exception) when (!token.IsCancellationRequested)
        {
            return null; // the reports' grain is moving: the membership watcher handles a lost cluster
        }
        var byNode = reports.ToDictionary(r => r.NodeId);

        // Tasks held by a node that reports holding none.
        foreach (var node in _idleHolding.Keys.Where(n => !holding.Contains(n)).ToList())
        {
            _idleHolding.Remove(node);
        }
        foreach (var node in holding)
        {
            if (!byNode.TryGetValue(node, out var report) || report.Busy > 0)
            {
                _idleHolding.Remove(node);
                continue;
            }
            var since = _idleHolding.TryGetValue(node, out var at) ? at : _idleHolding[node] = now;
            if (now - since > _orphanBound)
            {
                int taken = _queue.ReclaimFromNode(node, since);
                _idleHolding[node] = now;
                if (taken > 0)
                {
                    _queue.CountWatchdogAction();
                    _log($"watchdog: node {node} has reported no busy worker for {(now - since).TotalSeconds:F0} s but held {taken} task(s) of this executor: they go back to the queue");
                }
            }
        }

        // Queued work with idle live nodes.
        var idle = reports.Where(r => r.MaxWorkers > r.Busy).ToList();
        if (queued > 0 && noTake && idle.Count > 0)
        {
            _stallSince ??= now;
            string state = $"{queued} task(s) queued, {_queue.InFlightCount} in flight, no Take for {(now - _queue.LastTake).TotalSeconds:F0} s, " +
                $"idle node(s): {string.Join(", ", idle.Select(r => $"{r.NodeId} ({r.Busy} of {r.MaxWorkers} workers busy)"))}";
            if (now - _stallSince.Value > _giveUpAfter)
            {
                _queue.CountWatchdogAction();
                string why = $"the watchdog gave up after {(now - _stallSince.Value).TotalSeconds:F0} s: {state}";
                _log(why);
                return why;
            }
            if (now - _lastAction >= _stallBound)
            {
                _lastAction = now;
                _queue.CountWatchdogAction();
                _log($"watchdog: {state}; registering the executor again");
                try
                {
                    await _register().WaitAsync(CallTimeout, token).ConfigureAwait(false);
                }
                catch (Exception ex) when (!token.IsCancellationRequested)
                {
                    _log($"watchdog: the registration failed ({ex.GetType().Name}: {ex.Message})");
                }
            }
        }
        else
        {
            _stallSince = null;
        }
        return null;
    }
}
