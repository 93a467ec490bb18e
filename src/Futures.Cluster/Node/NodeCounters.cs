namespace CsFutures.Cluster.Node;

/// <summary>A node's task counters since it started (its <see cref="TaskPuller"/> counts, its
/// <see cref="NodeStatsReporter"/> reports them).</summary>
internal sealed class NodeCounters
{
    private long _started;
    private long _completed;
    private long _failed;

    /// <summary>Tasks handed to this node's workers.</summary>
    internal long Started => Interlocked.Read(ref _started);

    /// <summary>Tasks that returned a result.</summary>
    internal long Completed => Interlocked.Read(ref _completed);

    /// <summary>Tasks that ended otherwise (an error reply, a time-out, a dead worker, a refusal).</summary>
    internal long Failed => Interlocked.Read(ref _failed);

    /// <summary>Counts <paramref name="count"/> tasks handed to workers.</summary>
    internal void OnStarted(int count) => Interlocked.Add(ref _started, count);

    /// <summary>Counts one task ended, with a result (<paramref name="ok"/>) or not.</summary>
    internal void OnFinished(bool ok)
    {
        if (ok)
        {
            Interlocked.Increment(ref _completed);
        }
        else
        {
            Interlocked.Increment(ref _failed);
        }
    }
}
