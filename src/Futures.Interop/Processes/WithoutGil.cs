using CsFutures.Interop.CPython;

namespace CsFutures.Interop.Processes;

/// <summary>
/// The process pool's <see cref="ProcessPoolExecutorOptions.RunBlocking"/> for Python callers: a
/// worker spawn or a signal started from <c>submit</c>, <c>shutdown</c> or <c>kill_workers()</c>
/// runs with the GIL released, as CPython's <c>Process.start()</c> does, so other Python threads run
/// meanwhile.
/// </summary>
internal static unsafe class WithoutGil
{
    /// <summary>Runs <paramref name="action"/>, releasing the GIL around it when this thread holds it.</summary>
    public static void Run(Action action)
    {
        if (PyApi.PyGILState_Check() == 0)
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
