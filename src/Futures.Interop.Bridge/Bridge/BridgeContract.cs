using CsFutures.Processes;
namespace CsFutures.Interop.Bridge;

/// <summary>How an entry point is called by the Python package (<c>cs_futures/_bridge.py</c>).</summary>
public enum EntryKind
{
    /// <summary>Called with the GIL held (<c>ctypes.PYFUNCTYPE</c>). Never blocks. A failure sets the
    /// Python error indicator (ctypes then raises it) and returns -1 or NULL.</summary>
    Py,

    /// <summary>Called with the GIL released (<c>ctypes.CFUNCTYPE</c>). Blocks for at most the slice
    /// it is given and never touches Python objects. A failure returns
    /// <see cref="EntryCode.Failed"/>; the Python package then calls <c>last_error</c>, which raises
    /// the failure as a Python exception.</summary>
    Wait,
}

/// <summary>The selectors of <c>executor_info</c> (Python: <c>_bridge.ExecutorInfo</c>).</summary>
public enum ExecutorInfo
{
    /// <summary><c>executor._max_workers</c>.</summary>
    MaxWorkers,

    /// <summary>How many worker threads were started (<c>len(executor._threads)</c>).</summary>
    ThreadCount,

    /// <summary>Work items not yet taken by a worker (<c>executor._work_queue.qsize()</c>).</summary>
    QueuedCount,

    /// <summary>1 once shut down (<c>executor._shutdown</c>).</summary>
    IsShutdown,

    /// <summary>1 once broken (<c>bool(executor._broken)</c>).</summary>
    IsBroken,
}

/// <summary>The selectors of <c>process_pool_info</c> (Python: <c>_bridge.ProcessPoolInfo</c>).</summary>
public enum ProcessPoolInfo
{
    /// <summary><c>executor._max_workers</c>.</summary>
    MaxWorkers,

    /// <summary>Live workers (<c>len(executor._processes)</c>).</summary>
    WorkerCount,

    /// <summary>1 once broken (<c>bool(executor._broken)</c>).</summary>
    IsBroken,

    /// <summary>1 once shut down.</summary>
    IsShutdown,

    /// <summary>Tasks not yet sent to a worker.</summary>
    QueuedCount,
}

/// <summary>What <c>process_pool_shutdown</c> does (Python: <c>_bridge.PoolShutdown</c>).</summary>
public enum PoolShutdown
{
    /// <summary><c>shutdown(wait=False, cancel_futures=...)</c>; the wait is <c>process_pool_join</c>.</summary>
    Shutdown,

    /// <summary><c>terminate_workers()</c> (SIGTERM).</summary>
    Terminate,

    /// <summary><c>kill_workers()</c> (SIGKILL).</summary>
    Kill,

    /// <summary>Python 3.14's <c>executor._force_shutting_down = True</c>: workers that leave after
    /// <c>max_tasks_per_child</c> are no longer replaced (<see cref="ProcessPoolExecutor.StopReplacingWorkers"/>
    /// with <see cref="ProcessPoolExecutor.ForceShutdownMessage"/>).</summary>
    ForceShuttingDown,

    /// <summary>The executor object was garbage collected: <c>shutdown(wait=False)</c>, and workers that
    /// leave after <c>max_tasks_per_child</c> are no longer replaced (CPython 3.14, gh-152967;
    /// <see cref="ProcessPoolExecutor.CollectedMessage"/>).</summary>
    Collected,
}

/// <summary>What <c>process_worker_op</c> does to one worker (Python: <c>_bridge.WorkerOp</c>).</summary>
public enum WorkerOp
{
    /// <summary><c>terminate()</c>; returns 0.</summary>
    Terminate,

    /// <summary><c>kill()</c>; returns 0.</summary>
    Kill,

    /// <summary>The exit code, or <see cref="EntryCode.WorkerAlive"/> while it runs.</summary>
    ExitCode,
}

/// <summary>Which outcome <c>future_outcome</c> and <c>future_set</c> read or write (Python:
/// <c>_bridge.Outcome</c>).</summary>
public enum Outcome
{
    /// <summary><c>result()</c> / <c>set_result()</c>.</summary>
    Result,

    /// <summary><c>exception()</c> / <c>set_exception()</c>.</summary>
    Exception,
}

/// <summary>Which attribute Python code assigns through <c>future_force</c> (Python:
/// <c>_bridge.ForceField</c>).</summary>
public enum ForceField
{
    /// <summary><c>future._state = ...</c> (the value is a <see cref="FutureState"/>).</summary>
    State,

    /// <summary><c>future._result = ...</c>.</summary>
    Result,

    /// <summary><c>future._exception = ...</c>.</summary>
    Exception,
}

/// <summary>The numbers that entry points return besides their results (Python: <c>_bridge.Code</c>).</summary>
public enum EntryCode
{
    /// <summary>A "wait" entry failed; <c>last_error</c> raises why.</summary>
    Failed = -1,

    /// <summary><c>cursor_next</c>: every future was yielded.</summary>
    CursorExhausted = -2,

    /// <summary><c>process_worker_op</c> (<see cref="WorkerOp.ExitCode"/>): the worker is alive.</summary>
    WorkerAlive = -1000,

    /// <summary><c>process_worker_op</c>: the pool never listed this pid (or it has no exit code).</summary>
    WorkerUnknown = -1001,
}
