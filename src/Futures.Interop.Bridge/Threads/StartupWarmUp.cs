using CsFutures.Interop.CPython;
using Microsoft.Extensions.Logging;

namespace CsFutures.Interop.Threads;

/// <summary>
/// Runs, on a .NET thread-pool thread while the package's import goes on, the .NET code that a first
/// submit runs: a one-worker pool with the Python bridge's hooks takes one .NET call and shuts down.
/// Without it, the first submit of a process paid about 3 ms of first-call costs (type loading,
/// ReadyToRun fixups, and the JIT of the generic code that ReadyToRun cannot hold, such as
/// <c>ConcurrentQueue&lt;nint&gt;</c>), which a script's first and only pool pays in full. The warm-up
/// never touches Python (its worker never runs Python, so it never takes the GIL), and its thread then
/// parks, ready for the first pool's first worker (<see cref="ParkedThreads"/>).
/// </summary>
internal static class StartupWarmUp
{
    /// <summary>Queues the warm-up; returns at once.</summary>
    public static void Start() => ThreadPool.UnsafeQueueUserWorkItem(static _ => Run(), null);

    private static void Run()
    {
        try
        {
            PyRef.WarmUp();
            var executor = new ThreadPoolExecutor(1, "cs_futures_warm_up", null, PythonThreads.Options(maxBacklog: 1));
            executor.Submit(static () => 0).Result();
            executor.Shutdown(wait: true);
        }
        catch (Exception ex)
        {
            // Only a first call gets slower: nothing to report to the user.
            FuturesLogging.Logger.LogDebug(ex, "cs_futures: the start-up warm-up failed");
        }
    }
}
