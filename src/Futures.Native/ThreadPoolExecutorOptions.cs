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

    /// <summary>Wraps the start of each new worker: called on the submitting thread, outside the pool's
    /// lock, with the action that starts the worker (on a parked thread, else on a new one, which takes
    /// about 110 us) and returns once the worker runs, as CPython's <c>Thread.start()</c> returns once
    /// the thread started. By default the action is called as it is. A bridge calls it with its own
    /// lock released: the Python bridge releases the GIL, which the new worker then takes for its first
    /// task, as a new CPython thread does.</summary>
    public Action<Action>? StartWorker { get; set; }

    /// <summary>Runs last on each worker's thread as the worker exits, even after a failure. The thread
    /// may then run another pool's worker: a bridge undoes here what <see cref="WorkerStarted"/> set up.</summary>
    public Action? WorkerStopping { get; set; }
}
