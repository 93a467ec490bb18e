namespace CsFutures.Threads;

/// <summary>
/// Thread pools still alive at process exit are shut down with wait, as CPython's
/// <c>concurrent.futures.thread._python_exit</c> does at interpreter exit, so that submitted work is not
/// lost. Pools are held weakly: a pool that was collected has no work left to lose.
/// </summary>
internal static class LiveExecutors
{
    private static readonly List<WeakReference<WorkerPool>> s_pools = new();
    private static bool s_hooked;

    /// <summary>Registers <paramref name="pool"/> to be shut down and joined at process exit.</summary>
    public static void Add(WorkerPool pool)
    {
        lock (s_pools)
        {
            if (!s_hooked)
            {
                AppDomain.CurrentDomain.ProcessExit += (_, _) => ShutdownAll();
                s_hooked = true;
            }
            if (s_pools.Count > 64)
            {
                s_pools.RemoveAll(w => !w.TryGetTarget(out _));
            }
            s_pools.Add(new WeakReference<WorkerPool>(pool));
        }
    }

    private static void ShutdownAll()
    {
        WorkerPool[] pools;
        lock (s_pools)
        {
            pools = s_pools.Select(w => w.TryGetTarget(out var p) ? p : null).OfType<WorkerPool>().ToArray();
        }
        foreach (var pool in pools)
        {
            pool.Shutdown(cancelFutures: false);
        }
        foreach (var pool in pools)
        {
            pool.JoinAll();
        }
    }
}
