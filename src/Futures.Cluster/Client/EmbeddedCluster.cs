using CsFutures.Processes;
namespace CsFutures.Cluster.Client;

/// <summary>
/// The in-process node of embedded executors (Dask's <c>LocalCluster</c>): one silo on loopback with
/// free ports, started by the first embedded executor and stopped when the last one is gone.
/// </summary>
internal static class EmbeddedCluster
{
    private static readonly SemaphoreSlim s_lock = new(1, 1);
    private static ClusterNode? s_node;
    private static int s_users;

    internal static async Task<IClusterConnection> AcquireAsync(ProcessPoolExecutorOptions worker, CancellationToken token)
    {
        await s_lock.WaitAsync(token).ConfigureAwait(false);
        try
        {
            if (s_node is null)
            {
                var node = new ClusterNode(new ClusterNodeOptions { Primary = true, Worker = worker });
                await node.StartAsync(token).ConfigureAwait(false);
                s_node = node;
            }
            s_users++;
            return new Connection(s_node);
        }
        finally
        {
            s_lock.Release();
        }
    }

    private static async ValueTask ReleaseAsync()
    {
        await s_lock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (--s_users == 0 && s_node is { } node)
            {
                s_node = null;
                await node.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            s_lock.Release();
        }
    }

    private sealed class Connection(ClusterNode node) : IClusterConnection
    {
        private int _released;

        public IGrainFactory GrainFactory { get; } = node.GrainFactory;

        public ValueTask DisposeAsync() =>
            Interlocked.Exchange(ref _released, 1) == 0 ? ReleaseAsync() : ValueTask.CompletedTask;
    }
}
