using Microsoft.Extensions.Logging;
using CsFutures.Telemetry;

namespace CsFutures.Processes;

/// <summary>
/// How a <see cref="ProcessPoolExecutor"/> starts and manages its workers: the arguments of Python's
/// <c>ProcessPoolExecutor(max_workers, mp_context, initializer, initargs, max_tasks_per_child)</c>,
/// with the worker command line in place of <c>mp_context</c>, and the opt-in behaviours beyond CPython.
/// A record, so that a variant is <c>options with { IsolateCrashes = true }</c>.
/// </summary>
public sealed record ProcessPoolExecutorOptions
{
    /// <summary>The pool's name, the <see cref="FuturesTelemetry.ExecutorTag"/> of its metrics and task
    /// spans (as a thread pool's thread name prefix); <c>null</c> names it <c>ProcessPoolExecutor-{k}</c>,
    /// k counting process pools in the process.</summary>
    public string? Name { get; init; }

    /// <summary>The worker program understands <see cref="FrameKind.TracedTask"/> (the Python worker
    /// does): while the pool's activity source has listeners, tasks carry their span's trace context
    /// and their spans take the run's start and end from the worker. Otherwise a task's span spans the
    /// time from its send to its reply.</summary>
    public bool TraceWorkers { get; init; }

    /// <summary>The worker program (for Python workers, the interpreter).</summary>
    public required string FileName { get; init; }

    /// <summary>The worker's arguments.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>The whole environment of a worker; <c>null</c> inherits this process's.
    /// <see cref="WorkerProtocol.SocketVariable"/> is added in both cases.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>The most worker processes: Python's <c>max_workers</c>; <c>null</c> means the number of
    /// processors.</summary>
    public int? MaxWorkers { get; init; }

    /// <summary>Tasks a worker runs before it is replaced by a fresh one: Python's
    /// <c>max_tasks_per_child</c>; <c>null</c> for no limit.</summary>
    public int? MaxTasksPerChild { get; init; }

    /// <summary>Sent to every worker before its first task (Python: the pickled
    /// <c>initializer(*initargs)</c>); empty for none.</summary>
    public ReadOnlyMemory<byte> Initializer { get; init; }

    /// <summary>Start every worker at the first submit instead of on demand (what CPython does for the
    /// 'fork' start method).</summary>
    public bool StartAllWorkers { get; init; }

    /// <summary>Beyond CPython: when a worker dies, fail only the task it was running (with
    /// <see cref="BrokenProcessPoolException"/>) and start a replacement, instead of breaking the
    /// whole pool. A failing initializer still breaks the pool.</summary>
    public bool IsolateCrashes { get; init; }

    /// <summary>Beyond CPython: the default per-task time limit (see
    /// <see cref="ProcessPoolExecutor.Submit(ReadOnlyMemory{byte}, TimeSpan?)"/>); <c>null</c> for none.</summary>
    public TimeSpan? TaskTimeout { get; init; }

    /// <summary>How long a worker may take to connect back after it started.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Runs first on each thread that reads a worker's replies (and completes its tasks'
    /// futures): a bridge attaches the thread to its runtime here, as
    /// <see cref="ThreadPoolExecutorOptions.WorkerStarted"/> does for pool threads.</summary>
    public Action? ReaderStarted { get; init; }

    /// <summary>Runs last on each reader thread.</summary>
    public Action? ReaderStopping { get; init; }

    /// <summary>Runs what may block a caller for long: starting worker processes (a spawn takes
    /// milliseconds) and signalling them. The pool never holds its own lock there; a bridge whose
    /// callers hold an interpreter lock releases it around the action (Python: the GIL, as CPython's
    /// <c>Process.start()</c> does), so that other threads run meanwhile. <c>null</c> runs the action
    /// as it is.</summary>
    public Action<Action>? RunBlocking { get; init; }

    /// <summary>Where the pool logs worker exits and breaks; <see cref="FuturesLogging.Logger"/> when null.</summary>
    public ILogger? Logger { get; init; }
}
