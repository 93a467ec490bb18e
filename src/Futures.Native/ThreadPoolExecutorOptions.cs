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

    /// <summary>Runs first on each new worker thread, before the initializer: a bridge attaches the
    /// thread to a runtime here (the Python bridge creates the thread's Python thread state).</summary>
    public Action? WorkerStarted { get; set; }

    /// <summary>Starts a new worker thread (given with its index in the pool, 0 for the first), called
    /// on the submitting thread outside the pool's lock; by default <see cref="Thread.Start()"/>. A
    /// bridge can replace it: the Python bridge must not keep the GIL while a thread starts. The pool
    /// waits for a thread to have started before joining it.</summary>
    public Action<Thread, int>? StartWorker { get; set; }

    /// <summary>Runs last on each worker thread as it exits, even after a failure.</summary>
    public Action? WorkerStopping { get; set; }
}
