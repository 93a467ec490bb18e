using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using CsFutures.Telemetry;

namespace CsFutures.Threads;

/// <summary>
/// The state that a <see cref="ThreadPoolExecutor"/> shares with its worker threads: the queue, the
/// workers, shutdown and breakage. Workers reference only this, so the executor object can be
/// collected while they idle (its finalizer then shuts the pool down, as CPython's weakref callback
/// does). The flow is drawn at the top of <c>ThreadPoolExecutor.cs</c>.
/// </summary>
internal sealed class WorkerPool
{
    private const string InitializerFailedMessage =
        "A thread initializer failed, the thread pool is not usable anymore";

    [ThreadStatic]
    private static WorkerPool? t_workerOf; // the pool whose worker runs on this thread

    private readonly ConcurrentQueue<IWorkItem> _queue = new();
    private readonly IdleWorkers _idleWorkers = new();
    private readonly SubmitBacklog _backlog;
    private readonly Lock _lock = new();
    private readonly List<WorkerThread> _threads = new();
    private readonly List<WorkerSlot> _slots = new();
    private readonly Action? _initializer;
    private readonly ThreadPoolExecutorOptions _options;
    private readonly TaskCompletionSource _allExited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _shutdown;
    private volatile string? _broken;
    private int _idle;      // CPython's _idle_semaphore: workers that found the queue empty (until _full)
    private volatile bool _full; // the last worker thread started: submits queue without the lock (see EnterGate)
    private PaddedCount _submitting; // submits without the lock between their check of the flags and their enqueue
    private int _backlogQueued; // queued items, counted only when the backlog is on (ConcurrentQueue.Count costs more)
    private int _running;   // worker threads started and not yet exited (under _lock)
    private int _live;      // the same, but counted down as the worker's body ends, before Join returns

    public WorkerPool(int maxWorkers, string prefix, Action? initializer, ThreadPoolExecutorOptions options)
    {
        MaxWorkers = maxWorkers;
        Prefix = prefix;
        Counters = new ExecutorCounters(prefix, () => _queue.Count, () => Volatile.Read(ref _live));
        _initializer = initializer;
        _options = options;
        _backlog = new SubmitBacklog(options.MaxBacklog, options.BacklogStallTimeout);
    }

    public int MaxWorkers { get; }

    /// <summary>The pool's telemetry (<see cref="ExecutorStats"/>, metrics, task spans).</summary>
    public ExecutorCounters Counters { get; }

    public string Prefix { get; }

    public int QueuedCount => _queue.Count;

    /// <summary>How many submits waited for the backlog so far.</summary>
    public int BacklogWaits => _backlog.Waits;

    /// <summary>Workers registered as asleep waiting for work.</summary>
    public int SleepingWorkers => _idleWorkers.Sleepers;

    public string? BrokenReason => _broken;

    public bool IsShutdown => _shutdown;

    /// <summary>Completes once the pool is shut down and every worker started so far has exited.</summary>
    public Task AllExited
    {
        get
        {
            lock (_lock)
            {
                if (_threads.Count == 0)
                {
                    _allExited.TrySetResult();
                }
            }
            return _allExited.Task;
        }
    }

    private ILogger Logger => _options.Logger ?? FuturesLogging.Logger;

    /// <summary>The pool's "broken" error: <see cref="ThreadPoolExecutorOptions.BrokenException"/>'s, or
    /// a <see cref="BrokenThreadPoolException"/>.</summary>
    private BrokenThreadPoolException Broken(string message) =>
        _options.BrokenException?.Invoke(message) ?? new BrokenThreadPoolException(message);

    public WorkerThread[] ThreadsSnapshot()
    {
        lock (_lock)
        {
            return _threads.ToArray();
        }
    }

    /// <summary>Queues <paramref name="item"/>, starts a worker when none is idle (CPython's
    /// <c>_adjust_thread_count</c>), wakes a sleeping one, and waits while the backlog is too long.
    /// Once every worker thread is started, no submit starts one: the item is queued without the
    /// pool's lock (see <see cref="EnterGate"/>).</summary>
    public void Submit(IWorkItem item)
    {
        if (!_full && SubmitWhileGrowing(item))
        {
            return;
        }
        EnterGate();
        _options.InsideSubmitGate?.Invoke();
        Counters.Submitted(ref item.Trace);
        _queue.Enqueue(item);
        if (_backlog.Enabled)
        {
            Interlocked.Increment(ref _backlogQueued);
        }
        Interlocked.Decrement(ref _submitting.Value);
        WakeAndWaitForBacklog();
    }

    /// <summary>A submit while the pool may start workers: under the lock, as CPython's. False, having
    /// done nothing, when the pool turned out full.</summary>
    private bool SubmitWhileGrowing(IWorkItem item)
    {
        WorkerThread? newThread;
        bool growing;
        lock (_lock)
        {
            if (_full)
            {
                return false;
            }
            ThrowIfClosed();
            Counters.Submitted(ref item.Trace);
            _queue.Enqueue(item);
            if (_backlog.Enabled)
            {
                Interlocked.Increment(ref _backlogQueued);
            }
            newThread = AdjustThreadCountLocked();
            growing = _threads.Count < MaxWorkers;
        }
        if (newThread is not null)
        {
            StartWorker(newThread, item, growing);
        }
        WakeAndWaitForBacklog();
        return true;
    }

    private void WakeAndWaitForBacklog()
    {
        _idleWorkers.WakeOne();
        if (_backlog.Enabled && _backlog.ShouldWait(Volatile.Read(ref _backlogQueued)) && t_workerOf != this)
        {
            RunBlocking(() => _backlog.Wait(() => Volatile.Read(ref _backlogQueued), () => _shutdown || _broken is not null));
        }
    }

    /// <summary>Starts a submit without the lock: counted in <c>_submitting</c> from before its check
    /// of the shutdown and broken flags until after its enqueue (the caller decrements). Shutdown and
    /// breakage set their flag, then wait until no such submit is under way
    /// (<see cref="WaitForSubmits"/>): each item is refused or queued before they drain the queue,
    /// and workers exit only when none is under way, so that no item is queued unseen. Between the two,
    /// a submit only counts and enqueues, as it did under the lock.</summary>
    private void EnterGate()
    {
        Interlocked.Increment(ref _submitting.Value); // a full fence, before the flags are read
        if (_shutdown || _broken is not null)
        {
            Interlocked.Decrement(ref _submitting.Value);
            _idleWorkers.WakeOne(); // a worker that saw this submit under way went to sleep: it may exit now
            ThrowIfClosed();
        }
    }

    /// <summary>The other side of <see cref="EnterGate"/>: after setting the shutdown or broken flag,
    /// waits for the submits that read the flags before it was set (they only count and enqueue). Not
    /// under the lock, which a thread that such a submit waits for may need.</summary>
    private void WaitForSubmits()
    {
        Invariants.AssertNotHeld(_lock);
        Interlocked.MemoryBarrier(); // the flag is written before the count is read
        var spin = new SpinWait();
        while (Volatile.Read(ref _submitting.Value) != 0)
        {
            spin.SpinOnce();
        }
    }

    /// <summary>CPython's checks at the top of <c>submit</c>.</summary>
    private void ThrowIfClosed()
    {
        if (_broken is { } broken)
        {
            throw Broken(broken);
        }
        if (_shutdown)
        {
            throw new InvalidOperationException(FuturesMessages.SubmitAfterShutdown);
        }
    }

    /// <summary>Queues <paramref name="items"/> in order as that many <see cref="Submit"/> calls would,
    /// all or none (a shut down or broken pool takes none) without the lock once every worker is
    /// started, and wakes as many sleeping workers as there are items. While the pool may still start
    /// workers, or with the backlog on, the items go one by one through <see cref="Submit"/>, so that
    /// threads start and submitters wait exactly as they do for single submits.</summary>
    public void SubmitBatch(List<IWorkItem> items)
    {
        if (_backlog.Enabled || !_full)
        {
            foreach (var item in items)
            {
                Submit(item);
            }
            return;
        }
        EnterGate();
        foreach (var item in items)
        {
            Counters.Submitted(ref item.Trace);
            _queue.Enqueue(item);
        }
        Interlocked.Decrement(ref _submitting.Value);
        for (int i = Math.Min(items.Count, MaxWorkers); i > 0; i--)
        {
            _idleWorkers.WakeOne();
        }
    }

    /// <summary>Runs a blocking step of a submit through <see cref="ThreadPoolExecutorOptions.RunBlocking"/>
    /// (a bridge releases its own lock around it).</summary>
    private void RunBlocking(Action step)
    {
        Invariants.AssertNotHeld(_lock);
        if (_options.RunBlocking is { } hook)
        {
            hook(step);
        }
        else
        {
            step();
        }
    }

    /// <summary>Starts a new worker for <paramref name="item"/>; <paramref name="growing"/> when the
    /// pool may start more, so that a spare thread is worth preparing.</summary>
    private void StartWorker(WorkerThread worker, IWorkItem item, bool growing)
    {
        if (growing)
        {
            ParkedThreads.PrepareSpare();
        }
        try
        {
            RunBlocking(() =>
            {
                ParkedThreads.Run(worker);
                worker.WaitStarted();
            });
            if (!growing)
            {
                _full = true; // the last thread: later submits need neither the lock nor the idle count
            }
        }
        catch when (!worker.HasStarted)
        {
            // No thread (CPython: "can't start new thread" from submit): the caller gets the
            // error instead of a future, so the call must not run later either.
            lock (_lock)
            {
                _threads.Remove(worker);
                _full = false;
            }
            Interlocked.Decrement(ref _live);
            worker.MarkExited();
            item.Discard();
            item.Future.Cancel();
            Counters.Unsubmitted();
            Interlocked.Exchange(ref item.Trace.Counted, 1); // the caller got an error, not a future
            throw;
        }
    }

    /// <summary>CPython's <c>_adjust_thread_count</c>: reuse an idle worker, else add one; returns
    /// the thread to start, or <c>null</c>.</summary>
    private WorkerThread? AdjustThreadCountLocked()
    {
        Invariants.AssertHeld(_lock);
        int idle = Volatile.Read(ref _idle);
        while (idle > 0)
        {
            int seen = Interlocked.CompareExchange(ref _idle, idle - 1, idle);
            if (seen == idle)
            {
                return null;
            }
            idle = seen;
        }
        if (_threads.Count >= MaxWorkers || ClaimFinishingWorkerLocked())
        {
            return null;
        }
        var slot = new WorkerSlot();
        var thread = new WorkerThread($"{Prefix}_{_threads.Count}", () => WorkerMain(slot), WorkerExited);
        _threads.Add(thread);
        _slots.Add(slot);
        _running++;
        Interlocked.Increment(ref _live);
        return thread;
    }

    /// <summary>A worker whose current item's future is already done is about to take the next
    /// item: count it as idle (in CPython the GIL orders the worker's idle release before the
    /// caller sees the result; here the future's completion does).</summary>
    private bool ClaimFinishingWorkerLocked()
    {
        Invariants.AssertHeld(_lock);
        foreach (var slot in _slots)
        {
            if (slot.Current is { } current && current.Future.Done() && !slot.Claimed)
            {
                slot.Claimed = true;
                return true;
            }
        }
        return false;
    }

    /// <summary>The non-blocking part of CPython's <c>shutdown</c>: no more submits; with
    /// <paramref name="cancelFutures"/> the queued items are cancelled; idle workers exit.</summary>
    public void Shutdown(bool cancelFutures)
    {
        List<IWorkItem>? cancelled = null;
        lock (_lock)
        {
            _shutdown = true;
        }
        WaitForSubmits();
        lock (_lock)
        {
            if (cancelFutures)
            {
                cancelled = DrainLocked();
            }
            if (_running == 0)
            {
                _allExited.TrySetResult();
            }
        }
        _backlog.Release();
        _idleWorkers.WakeOne(); // each worker that exits wakes the next
        // Outside the lock: cancelling runs done-callbacks, which may take other locks (a
        // bridge's GIL) that a thread waiting for this lock holds.
        foreach (var item in cancelled ?? [])
        {
            // CPython only cancels; notifying too lets wait()/as_completed() see them. The work is
            // dropped, as CPython drops the work item: the future may outlive it.
            item.Discard();
            item.Future.Cancel();
            if (item.Future.State == FutureState.Cancelled)
            {
                item.Future.SetRunningOrNotifyCancel();
            }
            Counters.Count(ref item.Trace, item.Future);
        }
    }

    private List<IWorkItem> DrainLocked()
    {
        Invariants.AssertHeld(_lock);
        var items = new List<IWorkItem>();
        while (_queue.TryDequeue(out var item))
        {
            if (_backlog.Enabled)
            {
                Interlocked.Decrement(ref _backlogQueued);
            }
            items.Add(item);
        }
        return items;
    }

    /// <summary>Joins every worker started so far (but the calling one, when a worker shuts its own
    /// pool down).</summary>
    public void JoinAll()
    {
        foreach (var worker in ThreadsSnapshot())
        {
            if (!(worker.IsAlive && worker.ManagedThreadId == Environment.CurrentManagedThreadId))
            {
                worker.Join(); // also waits for a worker whose thread is still starting
            }
        }
    }

    private void WorkerMain(WorkerSlot slot)
    {
        t_workerOf = this;
        try
        {
            _options.WorkerStarted?.Invoke();
            try
            {
                if (_initializer is not null && !RunInitializer())
                {
                    return;
                }
                while (true)
                {
                    if (_queue.TryDequeue(out var item))
                    {
                        if (_backlog.Enabled)
                        {
                            _backlog.ItemTaken(Interlocked.Decrement(ref _backlogQueued));
                        }
                        _options.ItemStarting?.Invoke(item);
                        if (_full)
                        {
                            RunItem(item); // no submit looks at the slots any more (see ClaimFinishingWorkerLocked)
                            continue;
                        }
                        slot.Current = item;
                        RunItem(item);
                        slot.Current = null;
                        slot.Claimed = false;
                        continue;
                    }
                    if (!_full)
                    {
                        Interlocked.Increment(ref _idle);
                    }
                    _options.WorkerIdle?.Invoke();
                    if (!_idleWorkers.WaitForWork(_queue, () => _shutdown && Volatile.Read(ref _submitting.Value) == 0))
                    {
                        return;
                    }
                }
            }
            finally
            {
                _options.WorkerStopping?.Invoke();
            }
        }
        catch (Exception ex)
        {
            Logger.LogCritical(ex, "Exception in worker");
        }
        finally
        {
            t_workerOf = null;
            Interlocked.Decrement(ref _live); // before Join returns: a pool joined shows no live worker
        }
    }

    /// <summary>After a worker counts as exited (<see cref="WorkerThread.Join()"/> returns): the pool
    /// is joined when the last one did.</summary>
    private void WorkerExited()
    {
        lock (_lock)
        {
            WorkerExitedLocked();
        }
    }

    private void WorkerExitedLocked()
    {
        Invariants.AssertHeld(_lock);
        if (--_running == 0 && _shutdown)
        {
            _allExited.TrySetResult();
        }
    }

    private void RunItem(IWorkItem item)
    {
        Counters.Started(ref item.Trace);
        var activity = Counters.StartRunActivity(ref item.Trace);
        try
        {
            item.Run();
        }
        catch (Exception ex)
        {
            Logger.LogCritical(ex, "Exception in worker");
        }
        Counters.Ended(ref item.Trace, item.Future, activity);
    }

    private bool RunInitializer()
    {
        try
        {
            _initializer!();
            return true;
        }
        catch (Exception ex)
        {
            Logger.LogCritical(ex, "Exception in initializer:");
            InitializerFailed();
            return false;
        }
    }

    /// <summary>CPython's <c>_initializer_failed</c>: the pool is broken, queued work fails.</summary>
    private void InitializerFailed()
    {
        List<IWorkItem> pending;
        lock (_lock)
        {
            _broken = InitializerFailedMessage;
        }
        WaitForSubmits();
        lock (_lock)
        {
            pending = DrainLocked();
        }
        _backlog.Release();
        foreach (var item in pending)
        {
            item.Discard();
            WorkItem.FailFuture(item.Future, Broken(InitializerFailedMessage));
            Counters.Count(ref item.Trace, item.Future);
        }
    }
}

/// <summary>A count alone on its cache line: the submitters write it for each task, and the fields
/// around it are read by the workers for each task.</summary>
[System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Explicit, Size = 128)]
internal struct PaddedCount
{
    [System.Runtime.InteropServices.FieldOffset(64)]
    public int Value;
}
