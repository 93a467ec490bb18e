using System.Diagnostics;
using CsFutures.Cluster.Client;
using CsFutures.Cluster.Contracts;
using CsFutures.Processes;
using CsFutures.Telemetry;

namespace CsFutures.Cluster;

/// <summary>
/// Runs byte payloads on the worker processes of a cluster of <see cref="ClusterNode"/>s: the executor of
/// Dask's <c>Client.get_executor()</c>, without a central scheduler. This executor owns its queue and
/// its futures; nodes pull tasks from it (<see cref="ITaskSource"/>) and send results straight back.
/// </summary>
/// <remarks>
/// <para>Failures: the executor reads the cluster's membership itself (Orleans does not fail calls to a
/// silo killed with SIGKILL before its 30 s response timeout), and does not wait for Orleans' probes
/// when a node's connection closed and its endpoint refuses a new one (<see cref="NodeConnections"/>).
/// A watchdog (<see cref="Watchdog"/>) checks that queued work progresses. When a node leaves, its tasks go back to
/// the queue: those it had reported started count an attempt, the others are counted apart; the
/// <c>AllowedFailures + 1</c>-th loss of either kind fails the future with
/// <see cref="KilledWorkerException"/>. A worker process dying inside a live node counts an attempt too.
/// Execution is at least once; each future completes exactly once (a late result from a node that no
/// longer holds the task is dropped and counted in <see cref="LateResultsDropped"/>).</para>
/// <para>Submitting before any node is up queues: the tasks run once a node joins, within
/// <see cref="ClusterExecutorOptions.ConnectTimeout"/> (30 s by default) of the executor's creation;
/// after that the pending futures fail with <see cref="ClusterUnavailableException"/>.</para>
/// </remarks>
public sealed class ClusterExecutor : IDisposable, IAsyncDisposable
{
    private static int s_counter;
    private readonly ClusterExecutorOptions _options;
    private readonly TaskQueue _queue;
    private readonly Guid _id = Guid.NewGuid();
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _run;
    private readonly object _lock = new();
    private bool _shutdown;
    private string? _broken;
    private Task? _leave;

    /// <summary>Creates the executor and starts connecting in the background (Dask:
    /// <c>Client(address).get_executor()</c>; with no address, <c>Client()</c>'s local cluster).</summary>
    /// <exception cref="ArgumentException">Invalid options (a bad address, or no
    /// <see cref="ClusterExecutorOptions.LocalWorker"/> for the embedded node).</exception>
    public ClusterExecutor(ClusterExecutorOptions? options = null)
    {
        _options = options ?? new ClusterExecutorOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(_options.AllowedFailures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_options.MaxPayload);
        if (_options.MaxInFlight is { } inFlight)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inFlight);
        }
        if (_options.TaskTimeout is { } taskTimeout)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(taskTimeout, TimeSpan.Zero);
        }
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_options.WatchdogStallBound, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_options.WatchdogGiveUpAfter, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_options.WatchdogOrphanBound, TimeSpan.Zero);
        if (_options.Address is { } address)
        {
            if (RedisAddress.IsRedis(address))
            {
                RedisAddress.ToConfiguration(address);
            }
            else
            {
                GatewayAddress.Parse(address);
            }
        }
        else if (_options.LocalWorker is null)
        {
            throw new ArgumentException("the embedded node needs LocalWorker (the worker program)", nameof(options));
        }
        Name = string.IsNullOrEmpty(_options.Name)
            ? $"ClusterExecutor-{Interlocked.Increment(ref s_counter)}"
            : _options.Name;
        _queue = new TaskQueue(Name, _options.AllowedFailures, _options.TakeHold, _options.MaxInFlight, _options.TaskTimeout);
        _run = Task.Run(RunAsync);
    }

    /// <summary>The executor's name (<see cref="ClusterExecutorOptions.Name"/>), the
    /// <see cref="FuturesTelemetry.ExecutorTag"/> of its metrics (see <see cref="ClusterTelemetry"/>).</summary>
    public string Name { get; }

    /// <summary>Completes once the executor has reached the cluster and registered its queue.</summary>
    public Task Connected => _connected.Task;

    /// <summary>Results that arrived from a node no longer holding their task, and were dropped.</summary>
    public long LateResultsDropped => _queue.LateResultsDropped;

    /// <summary>Attempts lost after their node reported them started (node or worker process died).</summary>
    public long AttemptsLost => _queue.AttemptsLost;

    /// <summary>Tasks taken back from a dead node before it reported them started.</summary>
    public long LostBeforeStart => _queue.LostBeforeStart;

    /// <summary>Tasks taken back from a live node that never reported them started (its call gave up).</summary>
    public long Reclaimed => _queue.Reclaimed;

    /// <summary>Nodes whose tasks were taken back because they were lost: their connection closed and
    /// their endpoint refused a new one, or the membership no longer lists them.</summary>
    public long NodesLost => _queue.NodesLost;

    /// <summary>Actions of the executor's watchdog: registrations made again because work was queued
    /// while nodes idled, tasks taken back from nodes that reported holding none, a stall given up (its
    /// futures failed with <see cref="ClusterUnavailableException"/>).</summary>
    public long WatchdogActions => _queue.WatchdogActions;

    private void Log(string line)
    {
        try
        {
            _options.Log?.Invoke($"{Name}: {line}");
        }
        catch (Exception)
        {
            // A failing log never stops the executor.
        }
    }

    /// <summary>The last node lost and the evidence (diagnostics), or null.</summary>
    internal string? LastNodeLost => _queue.LastNodeLost;

    /// <summary>The nodes that hold tasks of this executor now (diagnostics and tests).</summary>
    internal IReadOnlySet<string> NodesHoldingTasks() => _queue.NodesHoldingTasks();

    /// <summary>Tasks waiting for a node.</summary>
    public int QueuedCount => _queue.QueuedCount;

    /// <summary>What the executor has done so far, in the engine's terms (<see cref="ExecutorStats"/>, as
    /// <see cref="ThreadPoolExecutor.Stats"/>): tasks submitted, completed, failed (raised, lost past
    /// <see cref="ClusterExecutorOptions.AllowedFailures"/>, too large, or failed with the cluster),
    /// cancelled, and queued. The workers are the nodes' and are counted there (their dashboards):
    /// <see cref="ExecutorStats.Workers"/> and the worker counts are 0. The cluster's own figures are
    /// the properties above.</summary>
    public ExecutorStats Stats()
    {
        var counts = _queue.Stats();
        long cancelled = _queue.CancelledCount;
        return new ExecutorStats(Name, counts.Submitted, counts.Done, Math.Max(0, counts.Failed - cancelled), cancelled,
            counts.Queued, Workers: 0, WorkerStarts: 0, WorkerDeaths: 0, WorkerRestarts: 0);
    }

    /// <summary>Tasks held by nodes now.</summary>
    public int InFlightCount => _queue.InFlightCount;

    /// <summary>Completes once the executor was shut down, every future is done and it left the cluster
    /// (or, before any shutdown, once it stopped because its cluster was lost).</summary>
    public Task Stopped
    {
        get { lock (_lock) { return _leave ?? _run; } }
    }

    /// <summary>Why the executor is broken (the cluster was lost), or null.</summary>
    public string? Broken
    {
        get { lock (_lock) { return _broken; } }
    }

    /// <summary>
    /// Queues a payload for a worker process on some node: Python's <c>submit</c>. The future's result is
    /// the worker's reply; it fails with <see cref="WorkerTaskException"/> on an error reply,
    /// <see cref="KilledWorkerException"/> when the task's attempts are used up,
    /// <see cref="PayloadTooLargeException"/> when the payload is over
    /// <see cref="ClusterExecutorOptions.MaxPayload"/> (nothing is sent), <see cref="TimeoutException"/>
    /// when it ran longer than <paramref name="timeout"/> (or <see cref="ClusterExecutorOptions.TaskTimeout"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">The executor was shut down.</exception>
    /// <exception cref="ClusterUnavailableException">The executor is broken.</exception>
    public Future<byte[]> Submit(ReadOnlyMemory<byte> payload, TimeSpan? timeout = null)
    {
        var item = new BytesWorkItem(payload, timeout);
        SubmitWorkItem(item);
        return item.Typed;
    }

    /// <summary>
    /// Queues a work item whose future and reply handling the caller defines (as
    /// <see cref="ProcessPoolExecutor.SubmitWorkItem"/>; the Python bridge's futures decode their replies
    /// lazily). The item's <see cref="ProcessWorkItem.Timeout"/> (or else <see cref="ClusterExecutorOptions.TaskTimeout"/>)
    /// limits each run of the task in its worker;
    /// <see cref="ProcessWorkItem.Fail"/> receives <see cref="KilledWorkerException"/>,
    /// <see cref="PayloadTooLargeException"/>, <see cref="TimeoutException"/> or
    /// <see cref="ClusterUnavailableException"/>.
    /// </summary>
    /// <param name="item">The task.</param>
    /// <param name="allowedFailures">Lost attempts this task may survive, instead of
    /// <see cref="ClusterExecutorOptions.AllowedFailures"/> (Python's <c>map</c> runs a chunk with none, and
    /// its items one by one with what the chunk left them).</param>
    /// <exception cref="InvalidOperationException">The executor was shut down.</exception>
    /// <exception cref="ClusterUnavailableException">The executor is broken.</exception>
    public void SubmitWorkItem(ProcessWorkItem item, int? allowedFailures = null)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (allowedFailures is { } allowed)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(allowed, nameof(allowedFailures));
        }
        lock (_lock)
        {
            if (_broken is { } broken)
            {
                throw new ClusterUnavailableException(broken);
            }
            if (_shutdown)
            {
                throw new InvalidOperationException(FuturesMessages.SubmitAfterShutdown);
            }
        }
        if (item.Payload.Length > _options.MaxPayload)
        {
            _queue.Failed(item, new PayloadTooLargeException(item.Payload.Length, _options.MaxPayload));
            return;
        }
        _queue.Enqueue(item, allowedFailures, TraceParent());
    }

    /// <summary>The W3C id of the activity current now, carried to the node that runs the task (the
    /// parent of its <see cref="ClusterTelemetry.TaskActivityName"/> span); null without one.</summary>
    private static string? TraceParent() =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;

    /// <summary>
    /// Python's <c>shutdown(wait, cancel_futures)</c>: no more submits; with
    /// <paramref name="cancelFutures"/>, queued tasks are cancelled; with <paramref name="wait"/>, returns
    /// once every future is done and the executor has left the cluster.
    /// </summary>
    public void Shutdown(bool wait = true, bool cancelFutures = false)
    {
        var task = ShutdownAsync(cancelFutures, wait);
        if (wait)
        {
            task.GetAwaiter().GetResult();
        }
    }

    /// <summary>The asynchronous <see cref="Shutdown"/>, waiting.</summary>
    public Task ShutdownAsync(bool cancelFutures = false) => ShutdownAsync(cancelFutures, wait: true);

    private async Task ShutdownAsync(bool cancelFutures, bool wait)
    {
        lock (_lock)
        {
            _shutdown = true;
        }
        if (cancelFutures)
        {
            _queue.CancelQueued();
        }
        Task leave;
        lock (_lock)
        {
            // The first shutdown decides what to wait for: every future pending then (no submit after it).
            leave = _leave ??= LeaveWhenDrained();
        }
        if (wait)
        {
            await leave.ConfigureAwait(false);
        }
    }

    /// <summary>How long leaving the cluster (unregistering, closing the connection) may take once every
    /// future is done; past it the connection is abandoned and the shutdown returns.</summary>
    internal static readonly TimeSpan LeaveTimeout = TimeSpan.FromSeconds(10);

    // Every future pending now is done: queued and in-flight tasks progress or fail by design (results are
    // acknowledged, lost nodes' tasks re-queued, a lost cluster fails them within ClusterLostTimeout), so
    // the wait is as long as the tasks themselves. The leave after it is bounded by LeaveTimeout.
    private Task LeaveWhenDrained()
    {
        var pending = _queue.PendingFutures();
        var drained = Task.WhenAll(pending.Select(f => f.AsTask().ContinueWith(_ => { }, TaskScheduler.Default)));
        return drained.ContinueWith(async _ =>
        {
            _queue.Close();
            _stopping.Cancel();
            try
            {
                await _run.WaitAsync(LeaveTimeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // The connection did not close in time (a cluster that no longer answers): abandoned.
            }
        }, TaskScheduler.Default).Unwrap();
    }

    /// <summary>Shuts down, waiting: Python's <c>with</c> exit.</summary>
    public void Dispose() => Shutdown(wait: true);

    /// <summary>Shuts down, waiting, asynchronously.</summary>
    public async ValueTask DisposeAsync() => await ShutdownAsync().ConfigureAwait(false);

    // Connects, registers the queue every second, and watches the membership until shutdown.
    private async Task RunAsync()
    {
        var token = _stopping.Token;
        IClusterConnection? connection = null;
        ITaskSource? self = null;
        MembershipWatcher? watcher = null;
        try
        {
            connection = _options.Address is { } address
                ? await ClientConnection.ConnectAsync(address, _options, token).ConfigureAwait(false)
                : await EmbeddedCluster.AcquireAsync(_options.LocalWorker!, token).ConfigureAwait(false);
            var factory = connection.GrainFactory;
            self = factory.CreateObjectReference<ITaskSource>(_queue);
            var directory = factory.GetGrain<IExecutorDirectoryGrain>(ClusterNames.DirectoryKey);
            watcher = new MembershipWatcher(factory.GetGrain<IMembershipViewGrain>(0), _queue, _options, Log);
            var registered = self;
            var watchdog = new Watchdog(_queue, factory.GetGrain<INodeStatsGrain>(ClusterNames.NodeStatsKey),
                () => directory.Register(_id, registered, _queue.Stats()), Log,
                _options.WatchdogStallBound, _options.WatchdogGiveUpAfter, _options.WatchdogOrphanBound);
            while (true)
            {
                try
                {
                    await directory.Register(_id, self, _queue.Stats()).WaitAsync(TimeSpan.FromSeconds(5), token).ConfigureAwait(false);
                    break;
                }
                catch (Exception) when (!token.IsCancellationRequested)
                {
                    // The directory's silo may be leaving: register again (the cluster-lost rule below
                    // applies once registered).
                    await Task.Delay(TimeSpan.FromMilliseconds(500), token).ConfigureAwait(false);
                }
            }
            _connected.TrySetResult();
            var nextRegister = DateTime.UtcNow + TimeSpan.FromSeconds(1);
            while (!token.IsCancellationRequested)
            {
                if (DateTime.UtcNow >= nextRegister)
                {
                    nextRegister = DateTime.UtcNow + TimeSpan.FromSeconds(1);
                    _ = directory.Register(_id, self, _queue.Stats()).ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
                }
                if (await watcher.PollAsync(token).ConfigureAwait(false) is { } lost)
                {
                    Break(lost);
                    return;
                }
                if (await watchdog.CheckAsync(token).ConfigureAwait(false) is { } stalled)
                {
                    Break(stalled);
                    return;
                }
                await Task.Delay(_options.MembershipPollInterval, token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // Never leave futures waiting on an executor that stopped talking to its cluster.
            Break(ex is ClusterUnavailableException unavailable ? unavailable.Message
                : $"the executor lost its cluster: {ex.GetType().Name}: {ex.Message}");
        }
        finally
        {
            watcher?.Dispose();
            _connected.TrySetResult();
            if (connection is not null)
            {
                if (self is not null)
                {
                    try
                    {
                        await connection.GrainFactory.GetGrain<IExecutorDirectoryGrain>(ClusterNames.DirectoryKey)
                            .Unregister(_id).WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
                    }
                    catch (Exception)
                    {
                        // The directory forgets the entry when it is not refreshed.
                    }
                    connection.GrainFactory.DeleteObjectReference<ITaskSource>(self);
                }
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private void Break(string reason)
    {
        lock (_lock)
        {
            _broken = reason;
        }
        _queue.FailAll(new ClusterUnavailableException(reason));
    }
}
