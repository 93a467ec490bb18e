using CsFutures.Interop.CPython;

namespace CsFutures.Interop;

/// <summary>
/// Attaches executor worker threads to the interpreter for their whole life: a worker creates its
/// Python thread state once, the first time it runs Python (so tasks pay only a GIL hand-over),
/// registers itself with Python's <c>threading</c> module under the pool thread's name (so
/// <c>threading.current_thread().name</c> and logging's <c>%(threadName)s</c> show it), and releases
/// the GIL whenever it is not running Python. A worker that never runs Python never touches it: it can
/// take work from the queue while another thread holds the GIL.
/// </summary>
internal static unsafe class PythonThreads
{
    [ThreadStatic]
    private static bool t_isWorker;

    [ThreadStatic]
    private static int t_outerState;

    [ThreadStatic]
    private static IntPtr t_threadState;

    /// <summary>The engine's <see cref="ThreadPoolExecutorOptions"/> with these hooks.</summary>
    public static ThreadPoolExecutorOptions Options() => new()
    {
        WorkerStarted = static () => t_isWorker = true,
        WorkerStopping = Detach,
        StartWorker = StartWorker,
    };

    /// <summary>On a pool worker, creates its thread state the first time (cheap afterwards).</summary>
    public static void EnsureAttached()
    {
        if (!t_isWorker || t_threadState != IntPtr.Zero || PyApi.IsFinalizing)
        {
            return;
        }
        t_outerState = PyApi.PyGILState_Ensure();
        PythonBridge.CallHook(started: true, Thread.CurrentThread.Name ?? "");
        t_threadState = PyApi.PyEval_SaveThread(); // keeps the thread state, releases the GIL
    }

    /// <summary>
    /// Starts a worker. The first worker of a pool starts at once, with the GIL released while it
    /// boots, as CPython's <c>Thread.start()</c> does: when <c>submit()</c> returns, a worker is up and
    /// takes work without needing the GIL. Later workers start on the .NET thread pool, so that the
    /// submitting loop (which holds the GIL) does not pay about 130 us per thread start: they join in
    /// as soon as they are up, which ramps a large pool up as fast as CPython does.
    /// </summary>
    /// <summary>Marks the current thread as one that keeps its thread state once it runs Python (for
    /// the process pool's reader threads); <see cref="Detach"/> must run when it ends.</summary>
    public static void MarkWorker() => t_isWorker = true;

    private static void StartWorker(Thread thread, int index)
    {
        if (index > 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static t => t.Start(), thread, preferLocal: false);
            return;
        }
        if (PyApi.PyGILState_Check() == 0)
        {
            thread.Start();
            return;
        }
        IntPtr state = PyApi.PyEval_SaveThread();
        try
        {
            thread.Start();
        }
        finally
        {
            PyApi.PyEval_RestoreThread(state);
        }
    }

    /// <summary>Gives up the thread state of a thread marked as a worker, if it made one.</summary>
    public static void Detach()
    {
        if (t_threadState == IntPtr.Zero || PyApi.IsFinalizing)
        {
            return; // never take the GIL during finalization: CPython would end this thread
        }
        PyApi.PyEval_RestoreThread(t_threadState);
        t_threadState = IntPtr.Zero;
        PythonBridge.CallHook(started: false, Thread.CurrentThread.Name ?? "");
        PyApi.PyGILState_Release(t_outerState); // the outermost release deletes the thread state
    }
}
