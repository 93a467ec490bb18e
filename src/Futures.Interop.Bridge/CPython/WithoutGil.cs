using CsFutures.Interop.CPython;
using CsFutures.Processes;

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
        // Not while the interpreter finalizes: on 3.11 PyGILState_Check (HoldsGil there) answers "held"
        // on every thread once finalization has switched its checks off, and releasing a GIL this thread
        // does not hold is a fatal error (seen: a warm-up worker's wait as a short script exited). No
        // other thread may take the GIL then anyway.
        if (!PyApi.HoldsGil || PyApi.IsFinalizing)
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
