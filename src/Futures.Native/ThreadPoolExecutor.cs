using CsFutures.Threads;
using CsFutures.Telemetry;

namespace CsFutures;

// How work and results flow (compare CPython's concurrent/futures/thread.py):
//
//   Submit(fn): the future is the work item (DelegateFuture; Map's MapFuture; a bridge's WorkItem
//   holds its future apart), one IWorkItem per task
//
//   Submit(item) ─► WorkerPool.Submit ───────► queue ─────────► worker thread (WorkerPool.WorkerMain)
//                    │  while the pool may grow,  (ConcurrentQueue)   takes an item, item.Run():
//                    │  under the pool's lock:                       sets running, runs, completes
//                    │  enqueue; no idle worker                      the future ─► waiters, callbacks,
//                    │  and < max_workers: a new                     awaiters
//                    │  WorkerThread (ParkedThreads runs it on a parked thread), started outside the
//                    │  lock (RunBlocking hook). Once the last worker started: enqueue without the
//                    │  lock, counted in _submitting from the shutdown check to the enqueue
//                    │  (EnterGate), which shutdown and breakage wait out before they drain the queue
//                    ├─ IdleWorkers.WakeOne()
//                    └─ queue longer than MaxBacklog: SubmitBacklog.Wait (RunBlocking hook) until the
//                       workers drain it to half
//
//   Map over a collection ─► WorkerPool.SubmitBatch: once every worker is started (and without a
//               backlog), up to 64 items (Executor.MapBatchSize) are queued in one pass through the
//               gate, all or none, and as many sleeping workers are woken; otherwise one Submit per item.
//
//   Shutdown ─► WorkerPool.Shutdown: no more submits; cancel_futures cancels what is queued; idle
//               workers wake one another in a chain and exit once the queue is empty and no submit
//               is past its check; the last one completes AllExited (Join / ShutdownAsync).
//
// Files: ThreadPoolExecutor (the public executor), Threads/WorkerPool (queue, workers, shutdown),
// Threads/IdleWorkers (sleep/wake), Threads/SubmitBacklog (submitters waiting for the workers),
// Threads/LiveExecutors (joined at process exit), ParkedThreads and WorkerThread (the threads).

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
    private readonly WorkerPool _pool;

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
            throw new ArgumentOutOfRangeException(nameof(maxWorkers), maxWorkers, FuturesMessages.MaxWorkersNotPositive);
        }
        string prefix = string.IsNullOrEmpty(threadNamePrefix)
            ? $"ThreadPoolExecutor-{Interlocked.Increment(ref s_counter)}"
            : threadNamePrefix;
        _pool = new WorkerPool(workers, prefix, initializer, options ?? new ThreadPoolExecutorOptions());
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

    /// <summary>What the pool has done so far (tasks submitted, completed, failed, cancelled; queued
    /// tasks and live threads now): Python's <c>executor.stats()</c> in cs_futures (CPython has none).
    /// The same figures are published as metrics tagged with <see cref="ThreadNamePrefix"/> (see
    /// <see cref="FuturesTelemetry"/>).</summary>
    public ExecutorStats Stats() => _pool.Counters.Snapshot();

    /// <summary>How many submits waited for the backlog (<see cref="ThreadPoolExecutorOptions.MaxBacklog"/>), for tests.</summary>
    internal int BacklogWaits => _pool.BacklogWaits;

    /// <summary>Workers asleep waiting for work, for tests.</summary>
    internal int SleepingWorkers => _pool.SleepingWorkers;

    /// <summary>Why the pool is broken, or <c>null</c>: Python's <c>_broken</c>.</summary>
    public string? Broken => _pool.BrokenReason;

    /// <summary>True once <see cref="Shutdown"/> was called: Python's <c>_shutdown</c>.</summary>
    public bool IsShutdown => _pool.IsShutdown;

    /// <inheritdoc/>
    /// <exception cref="BrokenThreadPoolException">An initializer failed; the message is
    /// <see cref="Broken"/>.</exception>
    public override void SubmitWorkItem(IWorkItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        _pool.Submit(item);
    }

    /// <summary>Map's batches: one lock round trip for the batch once every worker is started.</summary>
    internal override void SubmitWorkItems(List<IWorkItem> items) => _pool.SubmitBatch(items);

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
        // Null when the constructor threw (a bad max_workers): the finalizer still runs then.
        _pool?.Shutdown(cancelFutures: false);
    }
}
