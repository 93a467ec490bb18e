using CsFutures.Cluster;

namespace CsFutures.Interop.Cluster;

/// <summary>
/// A cluster node run by <c>python -m cs_futures.cluster worker</c>: the node program's command line
/// (<see cref="NodeProgram.Parse"/>), started and stopped from Python, which owns the signals.
/// </summary>
internal sealed class PythonClusterNode
{
    private readonly ClusterNode _node;
    private readonly Task _started;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _stopping;

    public PythonClusterNode(IReadOnlyList<string> args)
    {
        var options = NodeProgram.Parse(args, line => Console.Out.WriteLine(line));
        _node = new ClusterNode(options);
        _started = Task.Run(() => _node.StartAsync());
        _started.ContinueWith(t => _stopped.TrySetException(t.Exception!.InnerExceptions), TaskContinuationOptions.OnlyOnFaulted);
    }

    /// <summary>Phase 0: the node serves. Phase 1: the node stopped.</summary>
    public Task Phase(int phase) => phase == 0 ? _started : _stopped.Task;

    /// <summary>Leaves the cluster and stops the workers, in the background.</summary>
    public void Stop()
    {
        if (Interlocked.Exchange(ref _stopping, 1) == 0)
        {
            Task.Run(async () =>
            {
                try
                {
                    await _node.DisposeAsync().ConfigureAwait(false);
                    _stopped.TrySetResult();
                }
                catch (Exception ex)
                {
                    _stopped.TrySetException(ex);
                }
            });
        }
    }
}
