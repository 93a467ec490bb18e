using Microsoft.Extensions.Logging;

namespace CsFutures;

/// <summary>
/// Settings of a <see cref="ThreadPoolExecutor"/> beyond Python's constructor arguments.
/// </summary>
public sealed class ThreadPoolExecutorOptions
{
    /// <summary>Where the pool logs what CPython logs to <c>concurrent.futures</c> (a failing
    /// initializer). Defaults to <see cref="FuturesLogging.Logger"/>.</summary>
    public ILogger? Logger { get; set; }

    /// <summary>Runs first on each worker's thread, before the initializer: a bridge attaches the thread
    /// to a runtime here (the Python bridge marks it to get a Python thread state).</summary>
    public Action? WorkerStarted { get; set; }

    /// <summary>Wraps each step in which a submit blocks, called on the submitting thread outside the
    /// pool's lock with the step to run: the start of a new worker (it returns once the worker runs, as
    /// CPython's <c>Thread.start()</c> returns once the thread started; a parked thread wakes in a few
    /// microseconds, a new one takes about 110 us), and a wait for the backlog to drain
    /// (<see cref="MaxBacklog"/>). By default the step is called as it is. A bridge calls it with its own
    /// lock released: the Python bridge releases the GIL, which a new worker then takes for its first
    /// task, as a new CPython thread does.</summary>
    public Action<Action>? RunBlocking { get; set; }

    /// <summary>When above 0, a submit from a thread that is not one of the pool's workers, leaving more
    /// than this many items queued, waits (through <see cref="RunBlocking"/>) until the workers bring the
    /// queue down to half, or take nothing for 5 ms. CPython has no such limit: its queue is unbounded,
    /// and its submitters, being Python code, are slowed down by the GIL as much as its workers are.
    /// The Python bridge sets it, so that threads submitting in a loop leave the GIL to the workers and
    /// to other Python threads; 0 (the default) for .NET callers, whose submits never wait.</summary>
    public int MaxBacklog { get; set; }

    /// <summary>Runs in a submit to a pool whose workers are all started, between its check of the
    /// shutdown flag and its enqueue (for tests that hold a submit there).</summary>
    internal Action? InsideSubmitGate { get; set; }

    /// <summary>How long a submit waiting for the backlog accepts no progress from the workers (for tests).</summary>
    internal TimeSpan BacklogStallTimeout { get; set; } = Threads.SubmitBacklog.DefaultStallTimeout;

    /// <summary>Runs on a worker's thread before it runs each item (CPython has no such hook): a bridge
    /// that keeps its own lock between its items (see <see cref="WorkerIdle"/>) gives it back here before
    /// an item of another kind. The item is the future itself for <see cref="Executor.Submit{T}(Func{T})"/>
    /// and <see cref="Executor.Map{TSource, TResult}"/> (the future is its own work item), and the
    /// bridge's own <see cref="WorkItem"/> for <see cref="Executor.SubmitWorkItem"/>, so a bridge tells
    /// its items apart by their type.</summary>
    public Action<IWorkItem>? ItemStarting { get; set; }

    /// <summary>Runs on a worker's thread when it finds the queue empty, before it waits for work or
    /// exits. The Python bridge keeps the GIL from one Python task to the next while the queue holds
    /// more, as CPython's workers do (one GIL hand-over per task instead of two), and gives it back
    /// here.</summary>
    public Action? WorkerIdle { get; set; }

    /// <summary>Runs last on each worker's thread as the worker exits, even after a failure. The thread
    /// may then run another pool's worker: a bridge undoes here what <see cref="WorkerStarted"/> set up.</summary>
    public Action? WorkerStopping { get; set; }

    /// <summary>Makes the error of a broken pool (a failed initializer) from its message; by default a
    /// <see cref="BrokenThreadPoolException"/>. An interpreter pool gives its subclass, as Python 3.14's
    /// <c>InterpreterPoolExecutor</c> raises <c>BrokenInterpreterPool</c>.</summary>
    public Func<string, BrokenThreadPoolException>? BrokenException { get; set; }
}
