using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace CsFutures;

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
/// once, as the end of its connection. Beyond CPython: per-task timeouts that kill only the stuck
/// worker, and <see cref="ProcessPoolExecutorOptions.IsolateCrashes"/>.
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

    private readonly ProcessPoolExecutorOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Queue<ProcessWorkItem> _pending = new();
    private readonly List<WorkerProcess> _workers = [];
    private readonly List<WorkerProcess> _leaving = [];
    private readonly TaskCompletionSource _terminated = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly DirectoryInfo _socketDirectory;
    private int _started;
    private long _nextTaskId;
    private bool _shutdown;
    private string? _broken;
    private BrokenProcessPoolException? _brokenError;

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
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxWorkers, "max_workers must be greater than 0");
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
    }

    /// <summary>The most worker processes: Python's <c>_max_workers</c>.</summary>
    public int MaxWorkers { get; }

    /// <summary>Why the pool is broken, or <c>null</c>: Python's <c>_broken</c>.</summary>
    public string? Broken
    {
        get
        {
            lock (_lock)
            {
                return _broken;
            }
        }
    }

    /// <summary>True once shut down (or broken): Python's <c>_shutdown_thread</c>.</summary>
    public bool IsShutdown
    {
        get
        {
            lock (_lock)
            {
                return _shutdown;
            }
        }
    }

    /// <summary>The current worker processes, by process id: Python's <c>_processes</c>. Workers that
    /// are leaving (stopped after <c>max_tasks_per_child</c>) are not listed.</summary>
    public IReadOnlyList<WorkerProcessInfo> Workers
    {
        get
        {
            lock (_lock)
            {
                return _workers.Select(w => new WorkerProcessInfo(w)).ToList();
            }
        }
    }

    /// <summary>Every process this pool started and that may still be running, leaving ones included.</summary>
    public IReadOnlyList<WorkerProcessInfo> AllWorkers
    {
        get
        {
            lock (_lock)
            {
                return _workers.Concat(_leaving).Select(w => new WorkerProcessInfo(w)).ToList();
            }
        }
    }

    /// <summary>The number of tasks waiting for a worker.</summary>
    public int QueuedCount
    {
        get
        {
            lock (_lock)
            {
                return _pending.Count;
            }
        }
    }

    internal ReadOnlyMemory<byte> InitializerPayload => _options.Initializer;

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
    /// reply means).</summary>
    /// <exception cref="BrokenProcessPoolException">The pool is broken.</exception>
    /// <exception cref="InvalidOperationException">The pool was shut down
    /// (CPython: <c>RuntimeError('cannot schedule new futures after shutdown')</c>).</exception>
    public void SubmitWorkItem(ProcessWorkItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        List<(WorkerProcess, ProcessWorkItem)> sends;
        lock (_lock)
        {
            if (_brokenError is not null)
            {
                throw new BrokenProcessPoolException(_broken!);
            }
            if (_shutdown)
            {
                throw new InvalidOperationException("cannot schedule new futures after shutdown");
            }
            _pending.Enqueue(item);
            try
            {
                AdjustWorkersLocked();
            }
            catch
            {
                // The worker program could not start: the caller gets the error, nothing stays queued.
                _pending.TryDequeue(out _);
                throw;
            }
            sends = AssignLocked();
        }
        Send(sends);
    }

    /// <summary>Python's <c>shutdown(wait=True, *, cancel_futures=False)</c>: no new tasks; queued ones
    /// still run unless <paramref name="cancelFutures"/>; idle workers are stopped, busy ones after
    /// their task; with <paramref name="wait"/>, returns once every worker has exited.</summary>
    public void Shutdown(bool wait = true, bool cancelFutures = false)
    {
        List<ProcessWorkItem> cancelled = [];
        List<WorkerProcess> stops;
        bool terminated;
        lock (_lock)
        {
            _shutdown = true;
            if (cancelFutures)
            {
                cancelled.AddRange(_pending);
                _pending.Clear();
            }
            stops = StopIdleLocked();
            terminated = IsTerminatedLocked();
        }
        foreach (var item in cancelled)
        {
            if (!item.Future.Cancel())
            {
                item.Fail(new CancelledException());
            }
        }
        if (terminated)
        {
            SetTerminated();
        }
        Stop(stops);
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
    public void TerminateWorkers() => ForceShutdown(kill: false);

    /// <summary>Python 3.14's <c>kill_workers()</c>: as <see cref="TerminateWorkers"/> with SIGKILL.</summary>
    public void KillWorkers() => ForceShutdown(kill: true);

    /// <summary>Blocks until every worker has exited after a shutdown; false on timeout.</summary>
    public bool Join(TimeSpan? timeout = null) =>
        timeout is { } t ? _terminated.Task.Wait(t) : _terminated.Task.Wait(Timeout.Infinite);

    /// <summary>Shuts down and waits (Python's <c>with</c> block exit).</summary>
    public void Dispose() => Shutdown(wait: true);

    /// <summary>Shuts down and awaits the workers' exit.</summary>
    public async ValueTask DisposeAsync() => await ShutdownAsync().ConfigureAwait(false);

    private void ForceShutdown(bool kill)
    {
        Shutdown(wait: false, cancelFutures: true);
        List<WorkerProcess> all;
        lock (_lock)
        {
            all = [.. _workers, .. _leaving];
        }
        foreach (var worker in all)
        {
            if (kill)
            {
                worker.Kill();
            }
            else
            {
                worker.Terminate();
            }
        }
    }

    internal void OnWorkerReady(WorkerProcess worker)
    {
        List<(WorkerProcess, ProcessWorkItem)> sends;
        List<WorkerProcess> stops;
        lock (_lock)
        {
            if (worker.State != WorkerState.Starting)
            {
                return;
            }
            if (worker.Current is { } reserved)
            {
                // The task given to it while it started (CPython's call queue holds such tasks).
                worker.State = WorkerState.Busy;
                BeginLocked(worker, reserved);
                sends = [(worker, reserved)];
            }
            else
            {
                worker.State = WorkerState.Idle;
                sends = AssignLocked();
            }
            stops = StopIdleLocked();
        }
        Send(sends);
        Stop(stops);
    }

    internal void OnWorkerInitFailed(WorkerProcess worker, string explanation)
    {
        _logger.LogCritical("Exception in initializer of worker process {Pid}: {Explanation}", worker.Pid, explanation);
        List<ProcessWorkItem> failed;
        BrokenProcessPoolException error;
        lock (_lock)
        {
            worker.InitFailed = true;
            error = new BrokenProcessPoolException(TerminatedAbruptlyMessage, worker.Pid, null,
                $"the initializer of worker process {worker.Pid} failed:\n{explanation}");
            failed = BreakLocked(error);
        }
        FailAll(failed, error);
    }

    internal void OnWorkerReply(WorkerProcess worker, long id, bool succeeded, byte[] reply)
    {
        ProcessWorkItem? item;
        List<(WorkerProcess, ProcessWorkItem)> sends;
        List<WorkerProcess> stops;
        List<ProcessWorkItem>? failed = null;
        BrokenProcessPoolException? error = null;
        lock (_lock)
        {
            item = worker.Current;
            if (item is null || worker.State != WorkerState.Busy)
            {
                return; // a reply after a timeout or a break: the future was failed already
            }
            worker.Current = null;
            worker.TaskTimer?.Dispose();
            worker.TaskTimer = null;
            worker.TasksDone++;
            worker.State = WorkerState.Idle;
            stops = [];
            if (_options.MaxTasksPerChild is { } max && worker.TasksDone >= max)
            {
                LeaveLocked(worker);
                stops.Add(worker);
                failed = ReplaceWorkersLocked(out error);
            }
            sends = AssignLocked();
            stops.AddRange(StopIdleLocked());
        }
        Send(sends);
        Stop(stops);
        item.Complete(succeeded, reply);
        if (failed is not null)
        {
            FailAll(failed, error!);
        }
    }

    internal void OnWorkerExited(WorkerProcess worker, int? exitCode)
    {
        List<ProcessWorkItem> failed = [];
        Exception? error = null;
        List<(WorkerProcess, ProcessWorkItem)> sends = [];
        List<WorkerProcess> stops = [];
        List<ProcessWorkItem>? unstarted = null;
        BrokenProcessPoolException? startError = null;
        bool terminated;
        lock (_lock)
        {
            var item = worker.Current;
            worker.Current = null;
            worker.TaskTimer?.Dispose();
            worker.TaskTimer = null;
            bool expected = worker.State == WorkerState.Stopping && item is null;
            worker.State = WorkerState.Exited;
            _workers.Remove(worker);
            _leaving.Remove(worker);
            if (worker.InitFailed || _brokenError is not null)
            {
                // The pool broke already; this worker's task (if any) was failed then.
            }
            else if (worker.TimedOut && item is not null)
            {
                error = new TimeoutException(
                    $"the task ran longer than {TimeoutOf(item)!.Value.TotalSeconds:0.###} s; its worker process {worker.Pid} was killed");
                failed.Add(item);
            }
            else if (!expected)
            {
                string detail = DescribeExit(worker.Pid, exitCode);
                _logger.LogError("Worker process {Pid} of a process pool ended unexpectedly: {Detail}", worker.Pid, detail);
                if (_options.IsolateCrashes)
                {
                    if (item is not null)
                    {
                        error = new BrokenProcessPoolException(
                            "The worker process running this task terminated abruptly.", worker.Pid, exitCode, detail);
                        failed.Add(item);
                    }
                }
                else
                {
                    var broken = new BrokenProcessPoolException(TerminatedAbruptlyMessage, worker.Pid, exitCode, detail);
                    failed = BreakLocked(broken);
                    if (item is not null)
                    {
                        failed.Add(item);
                    }
                    error = broken;
                }
            }
            if (_brokenError is null)
            {
                unstarted = ReplaceWorkersLocked(out startError);
                sends = AssignLocked();
                stops = StopIdleLocked();
            }
            terminated = IsTerminatedLocked();
        }
        Send(sends);
        Stop(stops);
        if (error is not null)
        {
            FailAll(failed, error);
        }
        if (unstarted is not null)
        {
            FailAll(unstarted, startError!);
        }
        if (terminated)
        {
            SetTerminated();
        }
    }

    private void OnTaskTimeout(WorkerProcess worker, ProcessWorkItem item)
    {
        lock (_lock)
        {
            if (worker.Current != item || worker.State != WorkerState.Busy)
            {
                return;
            }
            worker.TimedOut = true;
        }
        worker.Kill();
    }

    /// <summary>Starts replacements for workers that left, from a reader thread, while there is work
    /// (or the pool is open). If a worker cannot start, no caller can be told: the pool breaks and
    /// the tasks it took are returned, to fail outside the lock.</summary>
    private List<ProcessWorkItem>? ReplaceWorkersLocked(out BrokenProcessPoolException? error)
    {
        error = null;
        if (_shutdown && _pending.Count == 0)
        {
            return null;
        }
        try
        {
            AdjustWorkersLocked();
            return null;
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or IOException or SocketException or InvalidOperationException)
        {
            error = new BrokenProcessPoolException(
                $"A replacement worker process could not be started: {ex.Message}", ex);
            return BreakLocked(error);
        }
    }

    /// <summary>Starts workers while queued tasks outnumber the workers that will be free
    /// (CPython's <c>_adjust_process_count</c> with its idle semaphore).</summary>
    private void AdjustWorkersLocked()
    {
        if (_options.StartAllWorkers)
        {
            while (_workers.Count < MaxWorkers)
            {
                StartWorkerLocked();
            }
            return;
        }
        int available = 0;
        foreach (var w in _workers)
        {
            if (w.State is WorkerState.Starting or WorkerState.Idle && w.Current is null)
            {
                available++;
            }
        }
        while (_pending.Count > available && _workers.Count < MaxWorkers)
        {
            StartWorkerLocked();
            available++;
        }
    }

    private void StartWorkerLocked()
    {
        int index = ++_started;
        string path = Path.Combine(_socketDirectory.FullName, $"w{index}.sock");
        var worker = WorkerProcess.Start(this, _options, path);
        _workers.Add(worker);
    }

    /// <summary>Gives queued tasks to idle workers, and reserves one for each starting worker (sent
    /// when it is ready). Such tasks are marked running, as CPython marks those it moves to its call
    /// queue; cancelled ones are dropped.</summary>
    private List<(WorkerProcess, ProcessWorkItem)> AssignLocked()
    {
        List<(WorkerProcess, ProcessWorkItem)> sends = [];
        if (_pending.Count == 0)
        {
            return sends;
        }
        foreach (var worker in _workers)
        {
            bool idle = worker.State == WorkerState.Idle;
            if (!idle && !(worker.State == WorkerState.Starting && worker.Current is null))
            {
                continue;
            }
            while (_pending.TryDequeue(out var item))
            {
                if (!item.Future.SetRunningOrNotifyCancel())
                {
                    continue;
                }
                worker.Current = item;
                if (idle)
                {
                    worker.State = WorkerState.Busy;
                    BeginLocked(worker, item);
                    sends.Add((worker, item));
                }
                break;
            }
            if (_pending.Count == 0)
            {
                break;
            }
        }
        return sends;
    }

    /// <summary>The task is about to be sent: its time limit starts now.</summary>
    private void BeginLocked(WorkerProcess worker, ProcessWorkItem item)
    {
        if (TimeoutOf(item) is { } timeout)
        {
            worker.TaskTimer = new Timer(_ => OnTaskTimeout(worker, item), null, timeout, Timeout.InfiniteTimeSpan);
        }
    }

    private TimeSpan? TimeoutOf(ProcessWorkItem item) => item.Timeout ?? _options.TaskTimeout;

    private void LeaveLocked(WorkerProcess worker)
    {
        worker.State = WorkerState.Stopping;
        _workers.Remove(worker);
        _leaving.Add(worker);
    }

    /// <summary>After shutdown, idle workers with nothing left to run are stopped.</summary>
    private List<WorkerProcess> StopIdleLocked()
    {
        List<WorkerProcess> stops = [];
        if (!_shutdown || _pending.Count > 0)
        {
            return stops;
        }
        foreach (var worker in _workers)
        {
            if (worker.State == WorkerState.Idle)
            {
                worker.State = WorkerState.Stopping;
                stops.Add(worker);
            }
        }
        return stops;
    }

    /// <summary>Marks the pool broken, takes every queued and running task, and terminates the workers.</summary>
    private List<ProcessWorkItem> BreakLocked(BrokenProcessPoolException error)
    {
        List<ProcessWorkItem> failed = [.. _pending];
        _pending.Clear();
        if (_brokenError is not null)
        {
            return failed;
        }
        _brokenError = error;
        _broken = BrokenMessage;
        _shutdown = true;
        foreach (var worker in _workers.Concat(_leaving))
        {
            if (worker.Current is { } running)
            {
                failed.Add(running);
                worker.Current = null;
                worker.TaskTimer?.Dispose();
                worker.TaskTimer = null;
            }
            worker.State = WorkerState.Stopping;
            // As CPython: the others are terminated, their state cannot be trusted.
            worker.Terminate();
        }
        _logger.LogError("A process pool is broken: {Detail}", error.Detail);
        return failed;
    }

    /// <summary>True when the pool is shut down and every worker is gone; the caller completes
    /// <see cref="Join"/> with <see cref="SetTerminated"/> after failing its futures, outside the lock.</summary>
    private bool IsTerminatedLocked() =>
        _shutdown && _pending.Count == 0 && _workers.Count == 0 && _leaving.Count == 0;

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

    private long NextTaskId() => Interlocked.Increment(ref _nextTaskId);

    private void Send(List<(WorkerProcess Worker, ProcessWorkItem Item)> sends)
    {
        foreach (var (worker, item) in sends)
        {
            // A failed send means the worker died: its reader thread reports that and fails the task.
            worker.Send(FrameKind.Task, NextTaskId(), item.Payload.Span);
            item.ReleasePayload();
        }
    }

    private static void Stop(List<WorkerProcess> stops)
    {
        foreach (var worker in stops)
        {
            worker.Send(FrameKind.Stop, 0, default);
        }
    }

    private static void FailAll(List<ProcessWorkItem> items, Exception error)
    {
        foreach (var item in items)
        {
            item.Fail(error);
        }
    }

    private static string DescribeExit(int pid, int? exitCode)
    {
        if (exitCode is null)
        {
            return $"worker process {pid} ended; its exit code is unknown";
        }
        int code = exitCode.Value;
        if (!OperatingSystem.IsWindows() && code > 128 && code < 128 + 65)
        {
            int signal = code - 128;
            return $"worker process {pid} was killed by signal {signal} ({SignalName(signal)}); exit code {code}";
        }
        return $"worker process {pid} exited with code {code}";
    }

    private static string SignalName(int signal) => signal switch
    {
        1 => "SIGHUP",
        2 => "SIGINT",
        6 => "SIGABRT",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        15 => "SIGTERM",
        _ => "signal " + signal,
    };
}
