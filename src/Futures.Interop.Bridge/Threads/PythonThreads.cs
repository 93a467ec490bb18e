using CsFutures.Interop.Bridge;
using CsFutures.Interop.CPython;

namespace CsFutures.Interop.Threads;

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
    private static bool t_attached;

    [ThreadStatic]
    private static IntPtr t_threadState;

    [ThreadStatic]
    private static bool t_kept; // this worker holds the GIL between two Python tasks

    [ThreadStatic]
    private static int t_keptState; // the PyGILState_STATE to release a kept GIL with, or KeptAfterAttach

    private const int KeptAfterAttach = -1;

    /// <summary>This worker owns a subinterpreter: it takes the main GIL with its own thread state
    /// (<see cref="AcquireOwnState"/>), never through <c>PyGILState</c>.</summary>
    [ThreadStatic]
    private static bool t_ownsInterpreter;


    /// <summary>The engine's <see cref="ThreadPoolExecutorOptions"/> with these hooks.</summary>
    /// <param name="maxBacklog">For pools that Python threads submit to: see
    /// <see cref="SubmitBacklog(int)"/>; 0 for pools that only .NET threads submit to.</param>
    public static ThreadPoolExecutorOptions Options(int maxBacklog = 0) => new()
    {
        WorkerStarted = static () => t_isWorker = true,
        WorkerStopping = Detach,
        RunBlocking = WithoutGil.Run,
        MaxBacklog = maxBacklog,
        ItemStarting = static item =>
        {
            if (item is not PythonCallWorkItem)
            {
                ReleaseKept();
            }
        },
        WorkerIdle = ReleaseKept,
    };

    /// <summary>A Python task starting on a pool worker that kept the GIL after its previous task: true,
    /// and the task runs at once (the GIL is still this thread's).</summary>
    public static bool ResumeKept()
    {
        if (!t_kept)
        {
            return false;
        }
        t_kept = false;
        return true;
    }

    /// <summary>A Python task ended on a pool worker: instead of releasing the GIL (with
    /// <paramref name="state"/>, or <see cref="ReleaseAfterAttach"/> when <paramref name="afterAttach"/>),
    /// keep it for the worker's next task, as CPython's workers keep it from one <c>work_queue.get()</c>
    /// to the next. The engine gives it back (<see cref="ReleaseKept"/>) when the queue is empty or the
    /// next item is not a Python task; a thread waiting for the GIL gets it meanwhile as from any
    /// CPython thread, by asking for it (the tasks' bytecode honours the request). False when the
    /// thread is not a pool worker: the caller releases as usual.</summary>
    public static bool Keep(int state, bool afterAttach)
    {
        if (!t_isWorker || !t_attached || t_ownsInterpreter || PyApi.IsFinalizing)
        {
            return false;
        }
        t_kept = true;
        t_keptState = afterAttach ? KeptAfterAttach : state;
        return true;
    }

    /// <summary>A task that <see cref="ResumeKept"/> started ended: keep the GIL again, with the state
    /// kept before (or give it back when keeping is no longer allowed).</summary>
    public static void KeepAgain()
    {
        t_kept = true;
        if (!t_isWorker || !t_attached || PyApi.IsFinalizing)
        {
            ReleaseKept();
        }
    }

    /// <summary>Gives back a GIL that <see cref="Keep"/> kept, if any.</summary>
    public static void ReleaseKept()
    {
        if (!t_kept)
        {
            return;
        }
        t_kept = false;
        if (t_keptState == KeptAfterAttach)
        {
            ReleaseAfterAttach();
        }
        else
        {
            PyApi.PyGILState_Release(t_keptState);
        }
    }

    /// <summary>Options for an interpreter pool (Python 3.14's <c>InterpreterPoolExecutor</c>): as
    /// <see cref="Options"/>, and each worker owns an isolated subinterpreter
    /// (<see cref="SubInterpreter"/>) that runs <paramref name="bootstrap"/> when it is created at the
    /// worker's first task, and ends as the worker exits, before the worker's thread state goes.</summary>
    public static ThreadPoolExecutorOptions InterpreterOptions(string bootstrap, int maxBacklog = 0, Microsoft.Extensions.Logging.ILogger? logger = null) => new()
    {
        WorkerStarted = () =>
        {
            t_isWorker = true;
            t_ownsInterpreter = true;
            SubInterpreter.Prepare(bootstrap);
        },
        WorkerStopping = static () =>
        {
            SubInterpreter.EndCurrent();
            Detach();
        },
        RunBlocking = WithoutGil.Run,
        MaxBacklog = maxBacklog,
        Logger = logger,
        BrokenException = static message => new BrokenInterpreterPoolException(message),
    };

    /// <summary>The backlog past which a Python thread's submit waits for the workers with the GIL
    /// released (<see cref="ThreadPoolExecutorOptions.MaxBacklog"/>): four items per worker, at least 64,
    /// so that the workers never run dry while a submitter waits. Measured on 2 cores (CPython 3.13,
    /// 8 threads submitting to 4 workers): the p90 wake-up delay of a sleeping thread falls from
    /// ~150 ms to under 1 ms, as with CPython's own executor.</summary>
    public static int SubmitBacklog(int maxWorkers) => Math.Max(64, 4 * maxWorkers);

    /// <summary>
    /// On a pool worker that has no thread state yet, creates it and takes the GIL in one step
    /// (<c>PyGILState_Ensure</c>, then the <c>threading</c> registration hook) and returns true: the
    /// caller runs Python at once and ends with <see cref="ReleaseAfterAttach"/>, so a worker's first
    /// task costs one GIL hand-over, not two. False on other threads and on attached workers.
    /// </summary>
    public static bool AttachHoldingGil()
    {
        if (!t_isWorker || t_attached || PyApi.IsFinalizing)
        {
            return false;
        }
        t_outerState = PyApi.PyGILState_Ensure();
        t_attached = true;
        PythonBridge.CallHook(started: true, Thread.CurrentThread.Name ?? "");
        return true;
    }

    /// <summary>What <see cref="AcquireOwnState"/> did.</summary>
    public enum OwnState
    {
        /// <summary>Not an interpreter-pool worker with a main thread state: use <c>PyGILState</c>.</summary>
        NotApplicable,
        /// <summary>Took the main GIL with the worker's own thread state: <see cref="ReleaseOwnState"/>.</summary>
        Taken,
        /// <summary>The thread already held the main GIL (an outer scope): nothing to release.</summary>
        AlreadyHeld,
    }

    /// <summary>On an interpreter-pool worker that has its main thread state, takes the main GIL with
    /// it. CPython may have bound the worker's <c>PyGILState</c> to its subinterpreter, so
    /// <c>PyGILState_Ensure</c> must not be used there. (The subinterpreter's thread state is current
    /// only inside <see cref="SubInterpreter.Run"/>, which never takes the main GIL.)</summary>
    public static OwnState AcquireOwnState()
    {
        if (!t_ownsInterpreter || !t_attached)
        {
            return OwnState.NotApplicable;
        }
        if (PyApi.HoldsGil)
        {
            return OwnState.AlreadyHeld;
        }
        PyApi.PyEval_RestoreThread(t_threadState);
        return OwnState.Taken;
    }

    /// <summary>Ends an <see cref="AcquireOwnState"/> scope that returned <see cref="OwnState.Taken"/>.</summary>
    public static void ReleaseOwnState() => t_threadState = PyApi.PyEval_SaveThread();

    /// <summary>On a pool worker without a thread state yet, creates it (and releases the GIL at once),
    /// so that a subinterpreter created on this thread later never becomes the thread's
    /// <c>PyGILState</c> state.</summary>
    public static void EnsureAttached()
    {
        if (AttachHoldingGil())
        {
            ReleaseAfterAttach();
        }
    }

    /// <summary>Ends the scope that <see cref="AttachHoldingGil"/> opened: releases the GIL and keeps
    /// the thread state for the worker's later tasks.</summary>
    public static void ReleaseAfterAttach() => t_threadState = PyApi.PyEval_SaveThread();

    /// <summary>Marks the current thread as one that keeps its thread state once it runs Python (for
    /// the process pool's reader threads); <see cref="Detach"/> must run when it ends.</summary>
    public static void MarkWorker() => t_isWorker = true;

    /// <summary>Gives up the thread state of a thread marked as a worker, if it made one, and unmarks
    /// the thread (a parked thread may run another pool's worker next).</summary>
    public static void Detach()
    {
        ReleaseKept();
        t_isWorker = false;
        bool ownsInterpreter = t_ownsInterpreter;
        t_ownsInterpreter = false;
        if (!t_attached)
        {
            return;
        }
        t_attached = false;
        IntPtr threadState = t_threadState;
        t_threadState = IntPtr.Zero;
        if (threadState == IntPtr.Zero || PyApi.IsFinalizing)
        {
            return; // never take the GIL during finalization: CPython would end this thread
        }
        PyApi.PyEval_RestoreThread(threadState);
        PythonBridge.CallHook(started: false, Thread.CurrentThread.Name ?? "");
        if (ownsInterpreter)
        {
            // What PyGILState_Release would do, without PyGILState (see AcquireOwnState).
            PyApi.PyThreadState_Clear(threadState);
            PyApi.PyThreadState_DeleteCurrent();
            return;
        }
        PyApi.PyGILState_Release(t_outerState); // the outermost release deletes the thread state
    }
}
