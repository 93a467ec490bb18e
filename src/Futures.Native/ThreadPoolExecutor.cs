using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace CsFutures;

/// <summary>
/// An executor that runs work on a pool of dedicated threads: Python's
/// <c>concurrent.futures.ThreadPoolExecutor(max_workers=None, thread_name_prefix='', initializer=None, initargs=())</c>.
/// </summary>
/// <remarks>
/// As in CPython: threads start lazily, one per submit while no worker is idle, up to
/// <see cref="MaxWorkers"/>; they are named <c>{prefix}_{n}</c>; an initializer that throws breaks the
/// pool (<see cref="BrokenThreadPoolException"/>). A submit that starts a worker returns once it runs,
/// as CPython's <c>Thread.start()</c> does. A worker that exits leaves its thread parked for a while, for
/// the next pool's worker (see <see cref="WorkerThread"/>). Workers are background threads; live executors
/// are shut down with <c>wait: true</c> when the process exits, so that submitted work is not lost.
/// If the executor is garbage-collected without a shutdown, its idle workers exit.
/// </remarks>
public class ThreadPoolExecutor : Executor
{
    private static int s_counter = -1;
    private readonly Pool _pool;

    /// <summary>
    /// Creates the pool. Nothing starts until the first submit.
    /// </summary>
    /// <param name="maxWorkers">The most threads; <c>null</c> means <c>min(32, processors + 4)</c>.</param>
    /// <param name="threadNamePrefix">Names threads <c>{prefix}_{n}</c>; by default
    /// <c>ThreadPoolExecutor-{k}</c>, k counting executors in the process.</param>
    /// <param name="initializer">Runs at the start of each worker thread (Python's
    /// <c>initializer(*initargs)</c>).</param>
    /// <param name="options">Logging and thread hooks.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxWorkers"/> is not positive
    /// (CPython: <c>ValueError('max_workers must be greater than 0')</c>).</exception>
    public ThreadPoolExecutor(
        int? maxWorkers = null,
        string? threadNamePrefix = null,
        Action? initializer = null,
        ThreadPoolExecutorOptions? options = null)
    {
        int workers = maxWorkers ?? DefaultMaxWorkers;
        if (workers <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxWorkers), maxWorkers, "max_workers must be greater than 0");
        }
        string prefix = string.IsNullOrEmpty(threadNamePrefix)
            ? $"ThreadPoolExecutor-{Interlocked.Increment(ref s_counter)}"
            : threadNamePrefix;
        _pool = new Pool(workers, prefix, initializer, options ?? new ThreadPoolExecutorOptions());
        LiveExecutors.Add(_pool);
    }

    /// <summary>Python's default for <c>max_workers</c>: <c>min(32, os.process_cpu_count() + 4)</c>.</summary>
    public static int DefaultMaxWorkers => Math.Min(32, Environment.ProcessorCount + 4);

    /// <summary>The most worker threads: Python's <c>_max_workers</c>.</summary>
    public int MaxWorkers => _pool.MaxWorkers;

    /// <summary>The prefix of the thread names: Python's <c>_thread_name_prefix</c>.</summary>
    public string ThreadNamePrefix => _pool.Prefix;

    /// <summary>The worker threads started so far: Python's <c>_threads</c>.</summary>
    public IReadOnlyCollection<WorkerThread> Threads => _pool.ThreadsSnapshot();

    /// <summary>The number of work items queued and not yet taken by a worker: Python's
    /// <c>_work_queue.qsize()</c>.</summary>
    public int QueuedCount => _pool.QueuedCount;

    /// <summary>Why the pool is broken, or <c>null</c>: Python's <c>_broken</c>.</summary>
    public string? Broken => _pool.BrokenReason;

    /// <summary>True once <see cref="Shutdown"/> was called: Python's <c>_shutdown</c>.</summary>
    public bool IsShutdown => _pool.IsShutdown;

    /// <inheritdoc/>
    /// <exception cref="BrokenThreadPoolException">An initializer failed; the message is
    /// <see cref="Broken"/>.</exception>
    public override void SubmitWorkItem(WorkItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        _pool.Submit(item);
    }

    /// <inheritdoc/>
    public override void Shutdown(bool wait = true, bool cancelFutures = false)
    {
        _pool.Shutdown(cancelFutures);
        if (wait)
        {
            _pool.JoinAll();
        }
    }

    /// <inheritdoc/>
    public override async Task ShutdownAsync(bool cancelFutures = false, CancellationToken cancellationToken = default)
    {
        _pool.Shutdown(cancelFutures);
        await _pool.AllExited.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits until every worker thread started so far has exited (after a shutdown).</summary>
    public bool Join(TimeSpan? timeout = null) => _pool.AllExited.Wait(timeout ?? Timeout.InfiniteTimeSpan);

    /// <summary>An executor dropped without shutdown lets its idle workers exit (CPython's weakref callback).</summary>
    ~ThreadPoolExecutor()
    {
        _pool.Shutdown(cancelFutures: false);
    }

    /// <summary>The state shared by the executor and its worker threads. Workers reference only this,
    /// so the executor object can be collected while they idle.</summary>
    private sealed class Pool
    {
        private const string InitializerFailedMessage =
            "A thread initializer failed, the thread pool is not usable anymore";

        private readonly ConcurrentQueue<WorkItem> _queue = new();
        private readonly SemaphoreSlim _wake = new(0);
        private readonly Lock _shutdownLock = new();
        private readonly List<WorkerThread> _threads = new();
        private readonly List<WorkerSlot> _slots = new();
        private readonly Action? _initializer;
        private readonly ThreadPoolExecutorOptions _options;
        private readonly TaskCompletionSource _allExited = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile bool _shutdown;
        private volatile string? _broken;
        private int _idle;      // CPython's _idle_semaphore: workers that found the queue empty
        private int _sleepers;  // workers registered to be woken through _wake
        private int _running;   // worker threads started and not yet exited

        public Pool(int maxWorkers, string prefix, Action? initializer, ThreadPoolExecutorOptions options)
        {
            MaxWorkers = maxWorkers;
            Prefix = prefix;
            _initializer = initializer;
            _options = options;
        }

        public int MaxWorkers { get; }

        public string Prefix { get; }

        public int QueuedCount => _queue.Count;

        public string? BrokenReason => _broken;

        public bool IsShutdown => _shutdown;

        public Task AllExited
        {
            get
            {
                lock (_shutdownLock)
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

        public WorkerThread[] ThreadsSnapshot()
        {
            lock (_shutdownLock)
            {
                return _threads.ToArray();
            }
        }

        public void Submit(WorkItem item)
        {
            WorkerThread? newThread;
            bool growing;
            lock (_shutdownLock)
            {
                if (_broken is { } broken)
                {
                    throw new BrokenThreadPoolException(broken);
                }
                if (_shutdown)
                {
                    throw new InvalidOperationException("cannot schedule new futures after shutdown");
                }
                _queue.Enqueue(item);
                newThread = AdjustThreadCountLocked();
                growing = _threads.Count < MaxWorkers;
            }
            if (newThread is not null)
            {
                // Outside the lock: starting waits for the thread (the Python bridge releases the GIL).
                StartWorker(newThread, item, growing);
            }
            WakeOne();
        }

        /// <summary>Starts a new worker for <paramref name="item"/>; <paramref name="growing"/> when the
        /// pool may start more, so that a spare thread is worth preparing.</summary>
        private void StartWorker(WorkerThread worker, WorkItem item, bool growing)
        {
            if (growing)
            {
                ParkedThreads.PrepareSpare();
            }
            Action start = () =>
            {
                ParkedThreads.Run(worker);
                worker.WaitStarted();
            };
            try
            {
                if (_options.StartWorker is { } hook)
                {
                    hook(start);
                }
                else
                {
                    start();
                }
            }
            catch when (!worker.HasStarted)
            {
                // No thread (CPython: "can't start new thread" from submit): the caller gets the
                // error instead of a future, so the call must not run later either.
                lock (_shutdownLock)
                {
                    _threads.Remove(worker);
                }
                worker.MarkExited();
                item.Future.Cancel();
                throw;
            }
        }

        private void WorkerExitedLocked()
        {
            if (--_running == 0 && _shutdown)
            {
                _allExited.TrySetResult();
            }
        }

        /// <summary>CPython's <c>_adjust_thread_count</c>: reuse an idle worker, else add one; returns
        /// the thread to start, or <c>null</c>.</summary>
        private WorkerThread? AdjustThreadCountLocked()
        {
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
            return thread;
        }

        /// <summary>A worker whose current item's future is already done is about to take the next
        /// item: count it as idle (in CPython the GIL orders the worker's idle release before the
        /// caller sees the result; here the future's completion does).</summary>
        private bool ClaimFinishingWorkerLocked()
        {
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

        public void Shutdown(bool cancelFutures)
        {
            List<WorkItem>? cancelled = null;
            lock (_shutdownLock)
            {
                _shutdown = true;
                if (cancelFutures)
                {
                    cancelled = DrainLocked();
                }
                if (_running == 0)
                {
                    _allExited.TrySetResult();
                }
            }
            WakeOne(); // each worker that exits wakes the next (see WaitForWork)
            // Outside the lock: cancelling runs done-callbacks, which may take other locks (a
            // bridge's GIL) that a thread waiting for this lock holds.
            foreach (var item in cancelled ?? [])
            {
                // CPython only cancels; notifying too lets wait()/as_completed() see them.
                item.Future.Cancel();
                if (item.Future.State == FutureState.Cancelled)
                {
                    item.Future.SetRunningOrNotifyCancel();
                }
            }
        }

        private List<WorkItem> DrainLocked()
        {
            var items = new List<WorkItem>();
            while (_queue.TryDequeue(out var item))
            {
                items.Add(item);
            }
            return items;
        }

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
                            slot.Current = item;
                            RunItem(item);
                            slot.Current = null;
                            slot.Claimed = false;
                            continue;
                        }
                        Interlocked.Increment(ref _idle);
                        if (!WaitForWork())
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
        }

        /// <summary>After a worker counts as exited (<see cref="WorkerThread.Join()"/> returns): the pool
        /// is joined when the last one did.</summary>
        private void WorkerExited()
        {
            lock (_shutdownLock)
            {
                WorkerExitedLocked();
            }
        }

        private void RunItem(WorkItem item)
        {
            try
            {
                item.Run();
            }
            catch (Exception ex)
            {
                Logger.LogCritical(ex, "Exception in worker");
            }
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
            List<WorkItem> pending;
            lock (_shutdownLock)
            {
                _broken = InitializerFailedMessage;
                pending = DrainLocked();
            }
            foreach (var item in pending)
            {
                item.Fail(new BrokenThreadPoolException(InitializerFailedMessage));
            }
        }

        /// <summary>Blocks until there may be work; false when the worker should exit (shutdown, or
        /// the executor was collected, and the queue is drained).</summary>
        private bool WaitForWork()
        {
            var spinner = new SpinWait();
            while (true)
            {
                if (!_queue.IsEmpty)
                {
                    return true;
                }
                if (_shutdown)
                {
                    // No submit can enqueue after _shutdown is set (both under _shutdownLock).
                    if (!_queue.IsEmpty)
                    {
                        return true;
                    }
                    // Wake the next sleeper, as CPython's exiting worker puts None back in the
                    // queue: a chain keeps the exiting workers from all contending at once.
                    WakeOne();
                    return false;
                }
                if (!spinner.NextSpinWillYield)
                {
                    spinner.SpinOnce(sleep1Threshold: -1);
                    continue;
                }
                Interlocked.Increment(ref _sleepers);
                if (!_queue.IsEmpty || _shutdown)
                {
                    if (!TryTakeSleeper())
                    {
                        _wake.Wait(); // a waker took our registration: take its signal
                    }
                    continue;
                }
                _wake.Wait();
                spinner.Reset();
            }
        }

        private bool TryTakeSleeper()
        {
            int s = Volatile.Read(ref _sleepers);
            while (s > 0)
            {
                int seen = Interlocked.CompareExchange(ref _sleepers, s - 1, s);
                if (seen == s)
                {
                    return true;
                }
                s = seen;
            }
            return false;
        }

        private void WakeOne()
        {
            Interlocked.MemoryBarrier();
            if (Volatile.Read(ref _sleepers) > 0 && TryTakeSleeper())
            {
                _wake.Release();
            }
        }
    }

    /// <summary>What one worker is running, for <c>ClaimFinishingWorkerLocked</c>.</summary>
    private sealed class WorkerSlot
    {
        public volatile WorkItem? Current;
        public volatile bool Claimed;
    }

    /// <summary>Executors still alive at process exit are shut down with wait, as CPython's
    /// <c>_python_exit</c> does at interpreter exit.</summary>
    private static class LiveExecutors
    {
        private static readonly List<WeakReference<Pool>> s_pools = new();
        private static bool s_hooked;

        public static void Add(Pool pool)
        {
            lock (s_pools)
            {
                if (!s_hooked)
                {
                    AppDomain.CurrentDomain.ProcessExit += (_, _) => ShutdownAll();
                    s_hooked = true;
                }
                if (s_pools.Count > 64)
                {
                    s_pools.RemoveAll(w => !w.TryGetTarget(out _));
                }
                s_pools.Add(new WeakReference<Pool>(pool));
            }
        }

        private static void ShutdownAll()
        {
            Pool[] pools;
            lock (s_pools)
            {
                pools = s_pools.Select(w => w.TryGetTarget(out var p) ? p : null).OfType<Pool>().ToArray();
            }
            foreach (var pool in pools)
            {
                pool.Shutdown(cancelFutures: false);
            }
            foreach (var pool in pools)
            {
                pool.JoinAll();
            }
        }
    }
}
