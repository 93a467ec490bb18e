using Microsoft.Extensions.Logging;

namespace CsFutures.Processes;

/// <summary>
/// The state of a <see cref="ProcessPoolExecutor"/> and its transitions: the queue of tasks waiting
/// for a worker (CPython's <c>_pending_work_items</c> and call queue), the workers by state (CPython's
/// <c>_processes</c>), the shutdown and broken flags. Every <c>...Locked</c> method runs under
/// <see cref="SyncObj"/> (checked in Debug builds), changes only memory, and records what has to be
/// done outside the lock in a <see cref="PoolEffects"/>.
/// </summary>
internal sealed class WorkerTable
{
    private readonly ProcessPoolExecutor _pool;
    private readonly ProcessPoolExecutorOptions _options;
    private readonly ILogger _logger;
    private readonly string _socketDirectory;
    private readonly Queue<ProcessWorkItem> _pending = new();
    private readonly List<WorkerProcess> _workers = [];
    private readonly List<WorkerProcess> _leaving = [];
    private int _started;
    private int _unpicklableDebt;

    public WorkerTable(ProcessPoolExecutor pool, ProcessPoolExecutorOptions options, int maxWorkers, ILogger logger, string socketDirectory)
    {
        _pool = pool;
        _options = options;
        MaxWorkers = maxWorkers;
        _logger = logger;
        _socketDirectory = socketDirectory;
    }

    /// <summary>The pool's lock: guards this table and the pool-owned fields of each <see cref="WorkerProcess"/>.</summary>
    public Lock SyncObj { get; } = new();

    public int MaxWorkers { get; }

    /// <summary>No new tasks (shut down, or broken).</summary>
    public bool IsShutdown { get; private set; }

    /// <summary>CPython's <c>_broken</c> text, or null.</summary>
    public string? BrokenText { get; private set; }

    /// <summary>The error that broke the pool, or null.</summary>
    public BrokenProcessPoolException? BrokenError { get; private set; }

    /// <summary>Why a worker that leaves after <c>max_tasks_per_child</c> is no longer replaced, or
    /// null while it is (see <see cref="StopReplacingLocked"/>).</summary>
    public string? NoReplacementReason { get; private set; }

    public int QueuedCountLocked
    {
        get
        {
            Invariants.AssertHeld(SyncObj);
            return _pending.Count;
        }
    }

    /// <summary>The current workers that have a process (not the ones being spawned or leaving).</summary>
    public List<WorkerProcess> SpawnedWorkersLocked()
    {
        Invariants.AssertHeld(SyncObj);
        return _workers.Where(w => w.IsSpawned).ToList();
    }

    /// <summary>Every worker that may still be running, leaving ones included.</summary>
    public List<WorkerProcess> AllWorkersLocked()
    {
        Invariants.AssertHeld(SyncObj);
        return [.. _workers, .. _leaving];
    }

    /// <summary>Queues a submitted task, reserves workers for it and hands it out if a worker is idle.</summary>
    public void SubmitLocked(ProcessWorkItem item, PoolEffects effects)
    {
        Invariants.AssertHeld(SyncObj);
        _pending.Enqueue(item);
        AdjustWorkersLocked(effects);
        AssignLocked(effects);
    }

    /// <summary>A call the bridge could not serialize: CPython's <c>submit</c> takes an idle worker's
    /// place for it (its idle semaphore) or starts a worker, before its feeder thread fails to pickle
    /// it. The same happens here, so that the pool grows as CPython's does; the idle place it takes
    /// is not given back (CPython's semaphore is released only when a task completes).</summary>
    public void NoteUnpicklableLocked(PoolEffects effects)
    {
        Invariants.AssertHeld(SyncObj);
        if (_options.StartAllWorkers)
        {
            AdjustWorkersLocked(effects);
            return;
        }
        if (AvailableLocked() == 0 && _workers.Count < MaxWorkers)
        {
            ReserveWorkerLocked(effects);
        }
        _unpicklableDebt = Math.Min(_unpicklableDebt + 1, _workers.Count);
    }

    /// <summary>Python's <c>shutdown</c>: no new tasks; takes the queued ones when
    /// <paramref name="cancelFutures"/> (returned, to cancel outside the lock) and stops idle workers.</summary>
    public List<ProcessWorkItem> ShutdownLocked(bool cancelFutures, PoolEffects effects)
    {
        Invariants.AssertHeld(SyncObj);
        IsShutdown = true;
        List<ProcessWorkItem> cancelled = [];
        if (cancelFutures)
        {
            cancelled.AddRange(_pending);
            _pending.Clear();
        }
        StopIdleLocked(effects);
        effects.Terminated = IsTerminatedLocked();
        return cancelled;
    }

    /// <summary>A worker connected and initialized: it runs the task reserved for it while it
    /// started, or takes a queued one.</summary>
    public void ReadyLocked(WorkerProcess worker, PoolEffects effects)
    {
        Invariants.AssertHeld(SyncObj);
        if (worker.State != WorkerState.Starting)
        {
            return;
        }
        if (worker.Current is { } reserved)
        {
            // The task given to it while it started (CPython's call queue holds such tasks).
            worker.State = WorkerState.Busy;
            BeginLocked(worker, reserved);
            effects.Sends.Add((worker, reserved));
        }
        else
        {
            worker.State = WorkerState.Idle;
            AssignLocked(effects);
        }
        StopIdleLocked(effects);
    }

    /// <summary>A worker's initializer failed: the pool breaks, as in CPython.</summary>
    public void InitFailedLocked(WorkerProcess worker, string explanation, PoolEffects effects)
    {
        Invariants.AssertHeld(SyncObj);
        worker.InitFailed = true;
        var error = new BrokenProcessPoolException(ProcessPoolExecutor.TerminatedAbruptlyMessage, worker.Pid, null,
            $"the initializer of worker process {worker.Pid} failed:\n{explanation}");
        BreakLocked(error, effects);
    }

    /// <summary>A worker's reply: its task completes, the worker takes the next one or leaves after
    /// <c>max_tasks_per_child</c>.</summary>
    public void ReplyLocked(WorkerProcess worker, bool succeeded, byte[] reply, PoolEffects effects)
    {
        Invariants.AssertHeld(SyncObj);
        var item = worker.Current;
        if (item is null || worker.State != WorkerState.Busy)
        {
            return; // a reply after a timeout or a break: the future was failed already
        }
        worker.Current = null;
        worker.CancelTimerLocked();
        (item.WorkerStart, item.WorkerEnd) = worker.ReportedRun;
        worker.TasksDone++;
        worker.State = WorkerState.Idle;
        if (_options.MaxTasksPerChild is { } max && worker.TasksDone >= max)
        {
            LeaveLocked(worker);
            effects.Stops.Add(worker);
            ReplaceWorkersLocked(effects);
        }
        AssignLocked(effects);
        StopIdleLocked(effects);
        effects.Completion = (item, succeeded, reply);
    }

    /// <summary>A worker's process has ended and been reaped: it leaves the table; an unexpected end
    /// fails its task (or breaks the pool), and a replacement is reserved while there is work.</summary>
    public void ExitedLocked(WorkerProcess worker, int? exitCode, PoolEffects effects)
    {
        Invariants.AssertHeld(SyncObj);
        var item = worker.Current;
        worker.Current = null;
        worker.CancelTimerLocked();
        bool expected = worker.State == WorkerState.Stopping && item is null;
        worker.State = WorkerState.Exited;
        _workers.Remove(worker);
        _leaving.Remove(worker);
        if (worker.InitFailed || BrokenError is not null)
        {
            // The pool broke already; this worker's task (if any) was failed then.
        }
        else if (worker.TimedOut && item is not null)
        {
            effects.Deaths++;
            effects.Failures.Add((item, new TimeoutException(
                $"the task ran longer than {TimeoutOf(item)!.Value.TotalSeconds:0.###} s; its worker process {worker.Pid} was killed")));
        }
        else if (!expected)
        {
            effects.Deaths++;
            string detail = ExitDescription.Describe(worker.Pid, exitCode);
            int pid = worker.Pid;
            effects.Logs.Add(() => _logger.LogError("Worker process {Pid} of a process pool ended unexpectedly: {Detail}", pid, detail));
            if (_options.IsolateCrashes)
            {
                if (item is not null)
                {
                    effects.Failures.Add((item, new BrokenProcessPoolException(
                        "The worker process running this task terminated abruptly.", pid, exitCode, detail)));
                }
            }
            else
            {
                var broken = new BrokenProcessPoolException(ProcessPoolExecutor.TerminatedAbruptlyMessage, pid, exitCode, detail);
                BreakLocked(broken, effects);
                if (item is not null)
                {
                    effects.Failures.Add((item, broken));
                }
            }
        }
        if (BrokenError is null)
        {
            ReplaceWorkersLocked(effects, crashed: !expected);
            if (BrokenError is null)
            {
                AssignLocked(effects);
                StopIdleLocked(effects);
            }
        }
        effects.Terminated = IsTerminatedLocked();
    }

    /// <summary>A reserved worker could not be spawned: it leaves the table and the pool breaks (no
    /// caller can be told, and its queued tasks would otherwise wait forever).</summary>
    public void SpawnFailedLocked(WorkerProcess worker, Exception error, PoolEffects effects)
    {
        Invariants.AssertHeld(SyncObj);
        var item = worker.Current;
        worker.Current = null;
        worker.State = WorkerState.Exited;
        _workers.Remove(worker);
        _leaving.Remove(worker);
        var broken = new BrokenProcessPoolException(
            $"A worker process could not be started: {error.Message}", error);
        BreakLocked(broken, effects);
        if (item is not null)
        {
            effects.Failures.Add((item, broken));
        }
        effects.Terminated = IsTerminatedLocked();
    }

    /// <summary>The task's time limit passed: true if it still runs, then the caller kills its worker.</summary>
    public bool TimedOutLocked(WorkerProcess worker, ProcessWorkItem item)
    {
        Invariants.AssertHeld(SyncObj);
        if (worker.Current != item || worker.State != WorkerState.Busy)
        {
            return false;
        }
        worker.TimedOut = true;
        return true;
    }

    /// <summary>From now on a worker that leaves after <c>max_tasks_per_child</c> is not replaced
    /// (CPython 3.14's <c>_replace_dead_worker</c> once the executor was garbage collected or is being
    /// forcefully shut down); when no worker remains for queued tasks, the pool breaks with
    /// <paramref name="reason"/> as the tasks' error message. The first reason given is kept.</summary>
    public void StopReplacingLocked(string reason, PoolEffects effects)
    {
        Invariants.AssertHeld(SyncObj);
        NoReplacementReason ??= reason;
        if (BrokenError is null && BreakIfNoWorkerForQueuedLocked(effects))
        {
            effects.Terminated = IsTerminatedLocked();
        }
    }

    /// <summary>Once workers are no longer replaced: breaks the pool with <see cref="NoReplacementReason"/>
    /// when tasks are queued and no worker is left to run them; true when it broke it.</summary>
    private bool BreakIfNoWorkerForQueuedLocked(PoolEffects effects)
    {
        if (_workers.Count > 0 || _pending.Count == 0)
        {
            return false;
        }
        BreakLocked(new BrokenProcessPoolException(NoReplacementReason!), effects);
        return true;
    }

    /// <summary>Python 3.14's <c>terminate_workers()</c> / <c>kill_workers()</c>: every worker is signalled.</summary>
    public void SignalAllLocked(int signal, PoolEffects effects)
    {
        Invariants.AssertHeld(SyncObj);
        foreach (var worker in _workers.Concat(_leaving))
        {
            effects.Signals.Add((worker, signal));
        }
    }

    /// <summary>Reserves replacements for workers that left, while there is work (or the pool is open).
    /// After <see cref="StopReplacingLocked"/>, a worker that left after <c>max_tasks_per_child</c>
    /// (not <paramref name="crashed"/>) is not replaced, and with no worker left the queued tasks fail.</summary>
    private void ReplaceWorkersLocked(PoolEffects effects, bool crashed = false)
    {
        Invariants.AssertHeld(SyncObj);
        if (IsShutdown && _pending.Count == 0)
        {
            return;
        }
        if (NoReplacementReason is not null && !crashed)
        {
            BreakIfNoWorkerForQueuedLocked(effects);
            return;
        }
        int before = effects.Spawns.Count;
        AdjustWorkersLocked(effects);
        effects.Restarts += effects.Spawns.Count - before;
    }

    /// <summary>Reserves workers while queued tasks outnumber the workers that will be free
    /// (CPython's <c>_adjust_process_count</c> with its idle semaphore).</summary>
    private void AdjustWorkersLocked(PoolEffects effects)
    {
        Invariants.AssertHeld(SyncObj);
        if (_options.StartAllWorkers)
        {
            while (_workers.Count < MaxWorkers)
            {
                ReserveWorkerLocked(effects);
            }
            return;
        }
        int available = AvailableLocked();
        while (_pending.Count > available && _workers.Count < MaxWorkers)
        {
            ReserveWorkerLocked(effects);
            available++;
        }
    }

    /// <summary>Workers that are idle, or starting with no task reserved, less the places taken by
    /// calls that could not be serialized (<see cref="NoteUnpicklableLocked"/>).</summary>
    private int AvailableLocked()
    {
        Invariants.AssertHeld(SyncObj);
        int available = 0;
        foreach (var w in _workers)
        {
            if (w.State is WorkerState.Starting or WorkerState.Idle && w.Current is null)
            {
                available++;
            }
        }
        return Math.Max(0, available - _unpicklableDebt);
    }

    /// <summary>Adds a worker in state <see cref="WorkerState.Starting"/>; it is spawned once the lock
    /// is released.</summary>
    private void ReserveWorkerLocked(PoolEffects effects)
    {
        Invariants.AssertHeld(SyncObj);
        int index = ++_started;
        var worker = new WorkerProcess(_pool, _options, Path.Combine(_socketDirectory, $"w{index}.sock"));
        _workers.Add(worker);
        effects.Spawns.Add(worker);
    }

    /// <summary>Gives queued tasks to idle workers, and reserves one for each starting worker (sent
    /// when it is ready). Such tasks are marked running, as CPython marks those it moves to its call
    /// queue; cancelled ones are dropped.</summary>
    private void AssignLocked(PoolEffects effects)
    {
        Invariants.AssertHeld(SyncObj);
        if (_pending.Count == 0)
        {
            return;
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
                    effects.Dropped.Add(item);
                    continue;
                }
                worker.Current = item;
                if (idle)
                {
                    worker.State = WorkerState.Busy;
                    BeginLocked(worker, item);
                    effects.Sends.Add((worker, item));
                }
                break;
            }
            if (_pending.Count == 0)
            {
                break;
            }
        }
    }

    /// <summary>The task is about to be sent: its time limit starts now.</summary>
    private void BeginLocked(WorkerProcess worker, ProcessWorkItem item)
    {
        Invariants.AssertHeld(SyncObj);
        if (TimeoutOf(item) is { } timeout)
        {
            worker.TaskTimer = new Timer(_ => _pool.OnTaskTimeout(worker, item), null, timeout, Timeout.InfiniteTimeSpan);
        }
    }

    private TimeSpan? TimeoutOf(ProcessWorkItem item) => item.Timeout ?? _options.TaskTimeout;

    private void LeaveLocked(WorkerProcess worker)
    {
        Invariants.AssertHeld(SyncObj);
        worker.State = WorkerState.Stopping;
        _workers.Remove(worker);
        _leaving.Add(worker);
    }

    /// <summary>After shutdown, idle workers with nothing left to run are stopped.</summary>
    private void StopIdleLocked(PoolEffects effects)
    {
        Invariants.AssertHeld(SyncObj);
        if (!IsShutdown || _pending.Count > 0)
        {
            return;
        }
        foreach (var worker in _workers)
        {
            if (worker.State == WorkerState.Idle)
            {
                worker.State = WorkerState.Stopping;
                effects.Stops.Add(worker);
            }
        }
    }

    /// <summary>Marks the pool broken, fails every queued and running task, and terminates the workers.</summary>
    private void BreakLocked(BrokenProcessPoolException error, PoolEffects effects)
    {
        Invariants.AssertHeld(SyncObj);
        effects.FailAll(_pending, error);
        _pending.Clear();
        if (BrokenError is not null)
        {
            return;
        }
        BrokenError = error;
        BrokenText = ProcessPoolExecutor.BrokenMessage;
        IsShutdown = true;
        foreach (var worker in _workers.Concat(_leaving))
        {
            if (worker.Current is { } running)
            {
                effects.Failures.Add((running, error));
                worker.Current = null;
                worker.CancelTimerLocked();
            }
            worker.State = WorkerState.Stopping;
            // As CPython: the others are terminated, their state cannot be trusted.
            effects.Signals.Add((worker, LinuxProcessApi.SIGTERM));
        }
        string? detail = error.Detail;
        effects.Logs.Add(() => _logger.LogError("A process pool is broken: {Detail}", detail));
    }

    /// <summary>True when the pool is shut down and every worker is gone.</summary>
    private bool IsTerminatedLocked()
    {
        Invariants.AssertHeld(SyncObj);
        return IsShutdown && _pending.Count == 0 && _workers.Count == 0 && _leaving.Count == 0;
    }
}
