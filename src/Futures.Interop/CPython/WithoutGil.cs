using CsFutures.Interop.CPython;

namespace CsFutures.Interop.CPython;

/// <summary>
/// The pools' <c>RunBlocking</c> hook for Python callers (<see cref="ThreadPoolExecutorOptions.RunBlocking"/>,
/// <see cref="ProcessPoolExecutorOptions.RunBlocking"/>): what may block a submit, a shutdown or
/// <c>kill_workers()</c> runs with the GIL released, so that other Python threads run meanwhile. A
/// worker process spawns as under CPython's <c>Process.start()</c>; a new worker thread takes the GIL for
/// its first task before the submitting thread gets it back, as under CPython's <c>Thread.start()</c>;
/// a submit waiting for the thread pool's backlog leaves the GIL to the workers and to every other
/// Python thread.
/// </summary>
internal static unsafe class WithoutGil
{
    /// <summary>Runs <paramref name="action"/>, releasing the GIL around it when this thread holds it.</summary>
    public static void Run(Action action)
    {
        if (!PyApi.HoldsGil)
        {
            action();
            return;
        }
        IntPtr state = PyApi.PyEval_SaveThread();
        try
        {
            action();
        }
        finally
        {
            PyApi.PyEval_RestoreThread(state);
        }
    }
}
