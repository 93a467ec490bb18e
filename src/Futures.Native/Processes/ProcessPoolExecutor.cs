using System.Diagnostics;
using Microsoft.Extensions.Logging;
using CsFutures.Telemetry;

namespace CsFutures.Processes;

// How work and results flow (CPython's concurrent/futures/process.py opens with such a map):
//
// |caller threads   |      |under the lock: WorkerTable   |      |after the lock: PoolEffects     |
// |                 |      |                              |      |                                |
// |Submit(item) ----+----->|pending queue                 |      |                                |
// |                 |      |  AdjustWorkersLocked --------+----->|Spawn: bind the socket,         |
// |                 |      |   (reserves a WorkerProcess) |      | posix_spawnp, pidfd, reader    |
// |                 |      |  AssignLocked ---------------+----->|Send: a Task frame  ------------+--> worker
// |Shutdown/Kill ---+----->|ShutdownLocked, SignalAllLock.+----->|Stop frames, signals (pidfd)    |    process
// |                 |      |                              |      |logs; futures completed/failed  |       |
// +-----------------+      +------------------------------+      +--------------------------------+       |
// |reader thread of |      |ReadyLocked, ReplyLocked,     |                                                |
// |each worker <----+------+InitFailedLocked              |<---- Ready / Ok / Error / InitFailed frames ---+
// |  EOF, then its  |      |ExitedLocked: fail the task or|                                                |
// |  pidfd: exited -+----->|break the pool; reserve a     |<---- the process ends (pidfd readable) --------+
// |                 |      |replacement                   |
//
// Each transition runs under WorkerTable.SyncObj, only changes memory, and lists its effects; its
// caller applies them once the lock is released (spawns and signals through options.RunBlocking, which
// lets a bridge release the GIL). Workers are followed through pidfds, never SIGCHLD (see ChildProcess).

/// <summary>
/// An executor whose workers are processes: the engine of Python's
/// <c>concurrent.futures.ProcessPoolExecutor</c>. It starts worker programs, sends each task's bytes
/// to one of them and completes the task's future with the reply (see <see cref="WorkerProtocol"/>);
/// it knows nothing about what the bytes mean.
/// </summary>
/// <remarks>
/// As in CPython: workers start on demand, one per submit while no worker is idle, up to
/// <see cref="MaxWorkers"/> (all at once with <see cref="ProcessPoolExecutorOptions.StartAllWorkers"/>);
/// a worker is replaced after <see cref="ProcessPoolExecutorOptions.MaxTasksPerChild"/> tasks; a worker
/// that dies or whose initializer fails breaks the pool: every pending and running future fails with
/// <see cref="BrokenProcessPoolException"/> and later submits throw it. A worker's death is noticed at
/// once, as the end of its connection and through its pidfd (never through SIGCHLD). Beyond CPython:
/// per-task timeouts that kill only the stuck worker, and
/// <see cref="ProcessPoolExecutorOptions.IsolateCrashes"/>.
/// <para>All calls are thread-safe. Futures are completed, and their callbacks run, outside the
/// pool's lock.</para>
/// </remarks>
public sealed class ProcessPoolExecutor : IDisposable, IAsyncDisposable
{
    /// <summary>CPython's message for futures failed by a broken pool.</summary>
    public const string TerminatedAbruptlyMessage =
        "A process in the process pool was terminated abruptly while the future was running or pending.";

    /// <summary>CPython's <c>_broken</c> text for a pool broken by a dead worker.</summary>
    public const string BrokenMessage =
        "A child process terminated abruptly, the process pool is not usable anymore";

    /// <summary>CPython 3.14's message for the queued futures of a pool whose executor was garbage
    /// collected when its last worker left after <c>max_tasks_per_child</c> (see <see cref="StopReplacingWorkers"/>).</summary>
    public const string CollectedMessage =
        "The ProcessPoolExecutor was garbage collected with work pending after its last worker process "
        + "exited upon reaching max_tasks_per_child; the pending work can never be run.";

    /// <summary>CPython 3.14's message for the queued futures of a pool being forcefully shut down
    /// when its last worker left after <c>max_tasks_per_child</c> (see <see cref="StopReplacingWorkers"/>).</summary>
    public const string ForceShutdownMessage =
        "A worker process exited while the pool was being forcefully shut down; work that was still "
        + "enqueued will not be run.";

    private readonly ProcessPoolExecutorOptions _options;
    private readonly ILogger _logger;
    private readonly WorkerTable _table;
    private readonly TaskCompletionSource _terminated = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly DirectoryInfo _socketDirectory;
    private static int s_counter = -1;
    private long _nextTaskId;

    /// <summary>Creates the pool; no process starts before the first submit.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="ProcessPoolExecutorOptions.MaxWorkers"/>
    /// is not positive (CPython: <c>ValueError('max_workers must be greater than 0')</c>), or
    /// <see cref="ProcessPoolExecutorOptions.MaxTasksPerChild"/> is below 1.</exception>
    public ProcessPoolExecutor(ProcessPoolExecutorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.FileName);
        int workers = options.MaxWorkers ?? Environment.ProcessorCount;
        if (workers <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxWorkers, FuturesMessages.MaxWorkersNotPositive);
        }
        if (options.MaxTasksPerChild is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxTasksPerChild, "max_tasks_per_child must be >= 1");
        }
        if (options.TaskTimeout is { } t && t <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), t, "the task timeout must be positive");
        }
        _options = options;
        MaxWorkers = workers;
        _logger = options.Logger ?? FuturesLogging.Logger;
        // Created with mode 0700 on Unix: only this user can reach the workers' sockets.
        _socketDirectory = Directory.CreateTempSubdirectory("csf-");
        _table = new WorkerTable(this, options, workers, _logger, _socketDirectory.FullName);
        Name = string.IsNullOrEmpty(options.Name)
            ? $"ProcessPoolExecutor-{Interlocked.Increment(ref s_counter)}"
            : options.Name;
        Counters = new ExecutorCounters(Name, () => QueuedCount, () => Workers.Count);
    }

    /// <summary>The pool's name (<see cref="ProcessPoolExecutorOptions.Name"/>), the tag of its metrics
    /// and task spans. CPython's process pools have no name.</summary>
    public string Name { get; }

    internal ExecutorCounters Counters { get; }

    /// <summary>What the pool has done so far (tasks submitted, completed, failed, cancelled; worker
    /// processes started, died and restarted; queued tasks and live workers now): Python's
    /// <c>executor.stats()</c> in cs_futures (CPython has none). The same figures are published as
    /// metrics tagged with <see cref="Name"/> (see <see cref="FuturesTelemetry"/>).</summary>
    public ExecutorStats Stats() => Counters.Snapshot();

    /// <summary>The most worker processes: Python's <c>_max_workers</c>.</summary>
    public int MaxWorkers { get; }

    /// <summary>Why the pool is broken, or <c>null</c>: Python's <c>_broken</c>.</summary>
    public string? Broken
    {
        get
        {
            lock (_table.SyncObj)
            {
                return _table.BrokenText;
            }
        }
    }

    /// <summary>True once shut down (or broken): Python's <c>_shutdown_thread</c>.</summary>
    public bool IsShutdown
    {
        get
        {
            lock (_table.SyncObj)
            {
                return _table.IsShutdown;
            }
        }
    }

    /// <summary>The current worker processes, by process id: Python's <c>_processes</c>. Workers that
    /// are leaving (stopped after <c>max_tasks_per_child</c>) or still being spawned are not listed.</summary>
    public IReadOnlyList<WorkerProcessInfo> Workers
    {
        get
        {
            lock (_table.SyncObj)
            {
                return _table.SpawnedWorkersLocked().Select(w => new WorkerProcessInfo(w)).ToList();
            }
        }
    }

    /// <summary>Every process this pool started and that may still be running, leaving ones included.</summary>
    public IReadOnlyList<WorkerProcessInfo> AllWorkers
    {
        get
        {
            lock (_table.SyncObj)
            {
                return _table.AllWorkersLocked().Where(w => w.IsSpawned).Select(w => new WorkerProcessInfo(w)).ToList();
            }
        }
    }

    /// <summary>The number of tasks waiting for a worker.</summary>
    public int QueuedCount
    {
        get
        {
            lock (_table.SyncObj)
            {
                return _table.QueuedCountLocked;
            }
        }
    }

    internal ReadOnlyMemory<byte> InitializerPayload => _options.Initializer;

    /// <summary>The pool's lock (the <see cref="WorkerTable"/>'s), for Debug-build assertions.</summary>
    internal Lock SyncObj => _table.SyncObj;

    /// <summary>Sends <paramref name="payload"/> to a worker; the future's result is the worker's
    /// <see cref="FrameKind.Ok"/> reply, or it fails with <see cref="WorkerTaskException"/> for an
    /// <see cref="FrameKind.Error"/> reply: Python's <c>submit</c> for bytes.</summary>
    /// <param name="payload">The task, as the worker understands it.</param>
    /// <param name="timeout">Beyond CPython: if the task runs longer, its worker is killed, the future
    /// fails with <see cref="TimeoutException"/> and a new worker replaces it; the pool stays healthy.
    /// <c>null</c> takes <see cref="ProcessPoolExecutorOptions.TaskTimeout"/>.</param>
    /// <exception cref="BrokenProcessPoolException">The pool is broken.</exception>
    /// <exception cref="InvalidOperationException">The pool was shut down.</exception>
    public Future<byte[]> Submit(ReadOnlyMemory<byte> payload, TimeSpan? timeout = null)
    {
        var item = new BytesWorkItem(payload, timeout);
        SubmitWorkItem(item);
        return item.Typed;
    }

    /// <summary>Queues a work item whose future the caller created (bridges use this to decide what a
    /// reply means). A worker process that this submit starts is spawned after the pool's lock is
    /// released; if it cannot start, the pool breaks and the queued futures, this one included, fail
    /// with <see cref="BrokenProcessPoolException"/>.</summary>
    /// <exception cref="BrokenProcessPoolException">The pool is broken.</exception>
    /// <exception cref="InvalidOperationException">The pool was shut down
    /// (CPython: <c>RuntimeError('cannot schedule new futures after shutdown')</c>).</exception>
    public void SubmitWorkItem(ProcessWorkItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        var effects = new PoolEffects();
        lock (_table.SyncObj)
        {
            ThrowIfClosedLocked();
            Counters.Submitted(ref item.Trace);
            _table.SubmitLocked(item, effects);
        }
        Apply(effects);
    }

    /// <summary>Counts a call that the caller could not serialize as CPython's <c>submit</c> counts it
    /// before its feeder thread fails to pickle it: it takes an idle worker's place, or starts a
    /// worker (up to <see cref="MaxWorkers"/>). The caller fails that call's future itself.</summary>
    /// <exception cref="BrokenProcessPoolException">The pool is broken.</exception>
    /// <exception cref="InvalidOperationException">The pool was shut down.</exception>
    public void NoteUnserializableCall()
    {
        var effects = new PoolEffects();
        lock (_table.SyncObj)
        {
            ThrowIfClosedLocked();
            _table.NoteUnpicklableLocked(effects);
        }
        Apply(effects);
    }

    /// <summary>Python's <c>shutdown(wait=True, *, cancel_futures=False)</c>: no new tasks; queued ones
    /// still run unless <paramref name="cancelFutures"/>; idle workers are stopped, busy ones after
    /// their task; with <paramref name="wait"/>, returns once every worker has exited.</summary>
    public void Shutdown(bool wait = true, bool cancelFutures = false)
    {
        var effects = new PoolEffects();
        List<ProcessWorkItem> cancelled;
        lock (_table.SyncObj)
        {
            cancelled = _table.ShutdownLocked(cancelFutures, effects);
        }
        foreach (var item in cancelled)
        {
            if (!item.Future.Cancel())
            {
                item.Fail(new CancelledException());
            }
            Counters.Count(ref item.Trace, item.Future);
        }
        Apply(effects);
        if (wait)
        {
            _terminated.Task.Wait();
        }
    }

    /// <summary>Python's <c>shutdown</c> awaited instead of blocking.</summary>
    public Task ShutdownAsync(bool cancelFutures = false, CancellationToken cancellationToken = default)
    {
        Shutdown(wait: false, cancelFutures);
        return _terminated.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Python 3.14's <c>terminate_workers()</c>: shuts down with pending futures cancelled and
    /// sends SIGTERM to every live worker; running futures fail with
    /// <see cref="BrokenProcessPoolException"/>.</summary>
    public void TerminateWorkers() => ForceShutdown(LinuxProcessApi.SIGTERM);

    /// <summary>Python 3.14's <c>kill_workers()</c>: as <see cref="TerminateWorkers"/> with SIGKILL.</summary>
    public void KillWorkers() => ForceShutdown(LinuxProcessApi.SIGKILL);

    /// <summary>From now on, a worker that leaves after <see cref="ProcessPoolExecutorOptions.MaxTasksPerChild"/>
    /// tasks is not replaced; when none is left while tasks are queued, the pool breaks and they fail
    /// with <see cref="BrokenProcessPoolException"/> whose message is <paramref name="reason"/>.
    /// Python 3.14: the executor garbage collected (<see cref="CollectedMessage"/>) or
    /// <c>executor._force_shutting_down = True</c> (<see cref="ForceShutdownMessage"/>), as CPython's
    /// <c>_replace_dead_worker</c> decides. The first reason given is kept.</summary>
    public void StopReplacingWorkers(string reason)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        Transition(effects => _table.StopReplacingLocked(reason, effects));
    }

    /// <summary>Blocks until every worker has exited after a shutdown; false on timeout.</summary>
    public bool Join(TimeSpan? timeout = null) =>
        timeout is { } t ? _terminated.Task.Wait(t) : _terminated.Task.Wait(Timeout.Infinite);

    /// <summary>Shuts down and waits (Python's <c>with</c> block exit).</summary>
    public void Dispose() => Shutdown(wait: true);

    /// <summary>Shuts down and awaits the workers' exit.</summary>
    public async ValueTask DisposeAsync() => await ShutdownAsync().ConfigureAwait(false);

    // ---- events from the workers' reader threads and timers: a transition, then its effects ----

    internal void OnWorkerReady(WorkerProcess worker) =>
        Transition(effects => _table.ReadyLocked(worker, effects));

    internal void OnWorkerInitFailed(WorkerProcess worker, string explanation)
    {
        _logger.LogCritical("Exception in initializer of worker process {Pid}: {Explanation}", worker.Pid, explanation);
        Transition(effects => _table.InitFailedLocked(worker, explanation, effects));
    }

    internal void OnWorkerReply(WorkerProcess worker, bool succeeded, byte[] reply) =>
        Transition(effects => _table.ReplyLocked(worker, succeeded, reply, effects));

    internal void OnWorkerExited(WorkerProcess worker, int? exitCode) =>
        Transition(effects => _table.ExitedLocked(worker, exitCode, effects));

    internal void OnTaskTimeout(WorkerProcess worker, ProcessWorkItem item)
    {
        bool kill;
        lock (_table.SyncObj)
        {
            kill = _table.TimedOutLocked(worker, item);
        }
        if (kill)
        {
            RunBlocking(worker.Kill);
        }
    }

    private void ThrowIfClosedLocked()
    {
        Invariants.AssertHeld(_table.SyncObj);
        if (_table.BrokenError is not null)
        {
            throw new BrokenProcessPoolException(_table.BrokenText!);
        }
        if (_table.IsShutdown)
        {
            throw new InvalidOperationException(FuturesMessages.SubmitAfterShutdown);
        }
    }

    private void ForceShutdown(int signal)
    {
        Shutdown(wait: false, cancelFutures: true);
        Transition(effects => _table.SignalAllLocked(signal, effects));
    }

    private void Transition(Action<PoolEffects> transitionLocked)
    {
        var effects = new PoolEffects();
        lock (_table.SyncObj)
        {
            transitionLocked(effects);
        }
        Apply(effects);
    }

    /// <summary>Does what a transition decided, with the lock released: frames first (running workers
    /// get their work), then signals and spawns (through <see cref="ProcessPoolExecutorOptions.RunBlocking"/>),
    /// logs, and the futures last, since their callbacks run user code.</summary>
    private void Apply(PoolEffects effects)
    {
        Invariants.AssertNotHeld(_table.SyncObj);
        foreach (var (worker, item) in effects.Sends)
        {
            // A failed send means the worker died: its reader thread reports that and fails the task.
            Counters.Started(ref item.Trace);
            string? traceParent = StartSpan(item, worker);
            long id = Interlocked.Increment(ref _nextTaskId);
            if (traceParent is not null)
            {
                worker.Send(FrameKind.TracedTask, id, WorkerProtocol.TracedTaskBody(traceParent, item.Payload.Span));
            }
            else
            {
                worker.Send(FrameKind.Task, id, item.Payload.Span);
            }
            item.ReleasePayload();
        }
        foreach (var worker in effects.Stops)
        {
            worker.Send(FrameKind.Stop, 0, default);
        }
        List<(WorkerProcess, Exception)>? spawnFailures = null;
        if (effects.HasBlockingWork)
        {
            RunBlocking(() =>
            {
                foreach (var (worker, signal) in effects.Signals)
                {
                    worker.Signal(signal);
                }
                foreach (var worker in effects.Spawns)
                {
                    try
                    {
                        worker.Spawn();
                        Counters.WorkerStarted();
                    }
                    catch (Exception ex)
                    {
                        (spawnFailures ??= []).Add((worker, ex));
                    }
                }
            });
        }
        foreach (var log in effects.Logs)
        {
            log();
        }
        for (int i = 0; i < effects.Deaths; i++)
        {
            Counters.WorkerDied();
        }
        Counters.WorkersRestarted(effects.Restarts);
        foreach (var item in effects.Dropped)
        {
            Counters.Count(ref item.Trace, item.Future);
        }
        if (effects.Completion is var (done, succeeded, reply))
        {
            done.Complete(succeeded, reply);
            Ended(done);
        }
        foreach (var (item, error) in effects.Failures)
        {
            item.Fail(error);
            Ended(item);
        }
        if (effects.Terminated)
        {
            SetTerminated();
        }
        foreach (var (worker, error) in spawnFailures ?? [])
        {
            Transition(next => _table.SpawnFailedLocked(worker, error, next));
        }
    }

    /// <summary>Starts the span of a task sent to <paramref name="worker"/>, child of its submitter's
    /// span, without making it current here; returns its W3C id for a worker that takes it
    /// (<see cref="ProcessPoolExecutorOptions.TraceWorkers"/>), else null. Null without listeners.</summary>
    private string? StartSpan(ProcessWorkItem item, WorkerProcess worker)
    {
        if (!FuturesTelemetry.Source.HasListeners())
        {
            return null;
        }
        var current = Activity.Current;
        Activity.Current = null;
        var parent = item.Trace.Parent;
        item.Trace.Parent = null;
        var span = FuturesTelemetry.Source.StartActivity(
            FuturesTelemetry.TaskActivityName, ActivityKind.Internal, parent?.Context ?? default);
        Activity.Current = current;
        if (span is null)
        {
            return null;
        }
        span.SetTag(FuturesTelemetry.ExecutorTag, Name);
        span.SetTag("process.pid", worker.Pid);
        item.Span = span;
        return _options.TraceWorkers && span.IdFormat == ActivityIdFormat.W3C ? span.Id : null;
    }

    /// <summary>A task's future is done (a reply, or a failure): counts its outcome once, records its
    /// duration and ends its span, with the run's times from the worker when it reported them.</summary>
    private void Ended(ProcessWorkItem item)
    {
        string? outcome = Counters.Count(ref item.Trace, item.Future);
        bool reported = item.WorkerEnd != default && item.WorkerEnd >= item.WorkerStart;
        Counters.RecordTimes(ref item.Trace, outcome, reported ? item.WorkerEnd - item.WorkerStart : null);
        if (Interlocked.Exchange(ref item.Span, null) is { } span)
        {
            var current = Activity.Current;
            if (reported)
            {
                span.SetStartTime(item.WorkerStart);
                span.SetEndTime(item.WorkerEnd);
                span.SetTag("csfutures.timing", "worker");
            }
            ExecutorCounters.Close(span, outcome);
            span.Stop();
            Activity.Current = current; // Stop restores the sender's current activity on this thread
        }
    }

    private void RunBlocking(Action action)
    {
        if (_options.RunBlocking is { } wrap)
        {
            wrap(action);
        }
        else
        {
            action();
        }
    }

    private void SetTerminated()
    {
        if (!_terminated.Task.IsCompleted)
        {
            try
            {
                _socketDirectory.Delete(recursive: true);
            }
            catch (IOException)
            {
                // Left for the OS's temp cleanup.
            }
            _terminated.TrySetResult();
        }
    }
}
