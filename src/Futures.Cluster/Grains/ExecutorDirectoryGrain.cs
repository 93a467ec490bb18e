using CsFutures.Cluster.Contracts;

namespace CsFutures.Cluster.Grains;

/// <summary>The <see cref="IExecutorDirectoryGrain"/> grain: in memory only (executors refill it). Its node logs
/// where it is active (a re-activation after its node's death starts empty).</summary>
internal sealed class ExecutorDirectoryGrain(Action<string> log) : Grain, IExecutorDirectoryGrain
{
    /// <summary>How long an entry lives without a refresh.</summary>
    internal static readonly TimeSpan Expiry = TimeSpan.FromSeconds(5);

    private readonly Dictionary<Guid, (ITaskSource Source, ExecutorCounts? Stats, DateTime Seen)> _entries = [];

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        log("the executor directory is active on this node");
        return Task.CompletedTask;
    }

    public Task Register(Guid executorId, ITaskSource source)
    {
        _entries[executorId] = (source, _entries.TryGetValue(executorId, out var known) ? known.Stats : null, DateTime.UtcNow);
        return Task.CompletedTask;
    }

    public Task Register(Guid executorId, ITaskSource source, ExecutorCounts stats)
    {
        _entries[executorId] = (source, stats, DateTime.UtcNow);
        return Task.CompletedTask;
    }

    public Task Unregister(Guid executorId)
    {
        _entries.Remove(executorId);
        return Task.CompletedTask;
    }

    public Task<ExecutorEntry[]> List()
    {
        var now = DateTime.UtcNow;
        foreach (var stale in _entries.Where(e => now - e.Value.Seen > Expiry).Select(e => e.Key).ToList())
        {
            _entries.Remove(stale);
        }
        return Task.FromResult(_entries.Select(e => new ExecutorEntry(e.Key, e.Value.Source, e.Value.Stats)).ToArray());
    }
}
