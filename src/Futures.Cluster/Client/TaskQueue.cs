using CsFutures.Cluster.Contracts;
using CsFutures.Processes;
using CsFutures.Telemetry;
namespace CsFutures.Cluster.Client;

/// <summary>
/// The queue and in-flight table of one <see cref="ClusterExecutor"/>; the object nodes call through
/// <see cref="ITaskSource"/>. A task is either queued or assigned to one node; each future completes
/// exactly once, under the rule that a result counts only from the node that holds the task.
/// </summary>
internal sealed class TaskQueue : ITaskSource
{
    /// <summary>The most payload bytes handed out by one <see cref="Take"/> (at least one task).</summary>
    internal const int MaxTakeBytes = 16 * 1024 * 1024;

    private readonly object _lock = new();
    private readonly LinkedList<ClusterTask> _queue = new();
    private readonly Dictionary<long, ClusterTask> _assigned = [];
    private readonly int _allowedFailures;
    private readonly int _maxInFlight;
    private readonly TimeSpan? _taskTimeout;
    private readonly TimeSpan _hold;
    private TaskCompletionSource _work = NewSignal();
    private long _nextId;
    private bool _closed;
    private long _lateResultsDropped;
    private long _attemptsLost;
    private long _lostBeforeStart;
    private long _reclaimed;
    private long _nodesLost;
    private long _cancelled;
    private long _lastTakeTicks = DateTime.UtcNow.Ticks;
    private long _watchdogActions;
    private string? _lastNodeLost;
    private long _done;
    private long _failed;

    internal TaskQueue(string name, int allowedFailures, TimeSpan hold, int? maxInFlight = null, TimeSpan? taskTimeout = null)
    {
        Tag = new KeyValuePair<string, object?>(FuturesTelemetry.ExecutorTag, name);
        _taskTimeout = taskTimeout;
        _allowedFailures = allowedFailures;
        _maxInFlight = maxInFlight ?? int.MaxValue;
        _hold = hold;
        ClusterTelemetry.Register(this);
    }

    /// <summary>The executor's name as the tag of its measurements (<see cref="ClusterTelemetry"/>).</summary>
    internal KeyValuePair<string, object?> Tag { get; }

    /// <summary>The queue was closed (the executor stopped): no longer observed by the gauges.</summary>
    internal bool IsClosed => Volatile.Read(ref _closed);

    internal long LateResultsDropped => Interlocked.Read(ref _lateResultsDropped);

    internal long AttemptsLost => Interlocked.Read(ref _attemptsLost);

    internal long LostBeforeStart => Interlocked.Read(ref _lostBeforeStart);

    internal long Reclaimed => Interlocked.Read(ref _reclaimed);

    /// <summary>Tasks cancelled before they ran (also counted in <see cref="ExecutorCounts.Failed"/>).</summary>
    internal long CancelledCount => Interlocked.Read(ref _cancelled);

    private void CountCancelled(long count)
    {
        Interlocked.Add(ref _cancelled, count);
        ClusterTelemetry.Add(ClusterTelemetry.Cancelled, count, Tag);
    }

    /// <summary>The task counts now, taken under the lock (the dashboard's figures).</summary>
    internal ExecutorCounts Stats()
    {
        lock (_lock)
        {
            return new ExecutorCounts(_nextId, _queue.Count, _assigned.Count, _done, _failed,
                _reclaimed, Interlocked.Read(ref _watchdogActions), _nodesLost);
        }
    }

    internal int QueuedCount
    {
        get { lock (_lock) { return _queue.Count; } }
    }

    /// <summary>Tasks held by nodes now.</summary>
    internal int InFlightCount
    {
        get { lock (_lock) { return _assigned.Count; } }
    }

    /// <summary>Queues a work item; the caller checked its size. <paramref name="allowedFailures"/>
    /// overrides the executor's.</summary>
    internal void Enqueue(ProcessWorkItem item, int? allowedFailures = null, string? traceParent = null)
    {
        ClusterTelemetry.Add(ClusterTelemetry.Submitted, 1, Tag);
        lock (_lock)
        {
            // The payload is kept for re-runs; an exact array is kept as it is, not copied.
            byte[] payload = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(item.Payload, out var segment)
                && segment.Offset == 0 && segment.Count == segment.Array!.Length ? segment.Array : item.Payload.ToArray();
            var task = new ClusterTask(_nextId++, item, payload, allowedFailures ?? _allowedFailures) { TraceParent = traceParent };
            item.ReleasePayload();
            _queue.AddLast(task);
            Signal();
        }
    }

    /// <summary>Fails a work item at once (an oversized payload); it still takes an id.</summary>
    internal void Failed(ProcessWorkItem item, Exception exception)
    {
        lock (_lock)
        {
            _nextId++;
            _failed++;
        }
        ClusterTelemetry.Add(ClusterTelemetry.Submitted, 1, Tag);
        ClusterTelemetry.Add(ClusterTelemetry.Failed, 1, Tag);
        item.ReleasePayload();
        if (item.Future.SetRunningOrNotifyCancel())
        {
            item.Fail(exception);
        }
    }

    /// <summary>Every future not done yet (queued or assigned).</summary>
    internal List<Future> PendingFutures()
    {
        lock (_lock)
        {
            return _queue.Select(t => t.Future).Concat(_assigned.Values.Select(t => t.Future)).ToList();
        }
    }

    /// <summary>Cancels every queued future that has not started (Python's
    /// <c>shutdown(cancel_futures=True)</c>); a task re-queued after a lost attempt is running, cannot
    /// be cancelled, and stays queued.</summary>
    internal void CancelQueued()
    {
        List<ClusterTask> queued;
        lock (_lock)
        {
            queued = _queue.Where(t => !t.Running).ToList();
            foreach (var task in queued)
            {
                _queue.Remove(task);
            }
            _failed += queued.Count;
        }
        CountCancelled(queued.Count);
        foreach (var task in queued)
        {
            task.Future.Cancel();
            task.Future.SetRunningOrNotifyCancel();
        }
    }

    /// <summary>The nodes holding tasks now.</summary>
    internal HashSet<string> NodesHoldingTasks()
    {
        lock (_lock)
        {
            return _assigned.Values.Select(t => t.Node!).ToHashSet();
        }
    }

    /// <summary>Stops handing out work: <see cref="Take"/> answers empty from now on. Tasks whose
    /// futures were cancelled while queued leave the queue, counted (as <see cref="Take"/> counts them).</summary>
    internal void Close()
    {
        int cancelled = 0;
        lock (_lock)
        {
            _closed = true;
            for (var node = _queue.First; node is not null;)
            {
                var next = node.Next;
                if (!node.Value.Running && node.Value.Future.Cancelled())
                {
                    _queue.Remove(node);
                    node.Value.Future.SetRunningOrNotifyCancel();
                    _failed++;
                    cancelled++;
                }
                node = next;
            }
            Signal();
        }
        CountCancelled(cancelled);
    }

    /// <summary>When a node last called <see cref="Take"/> (any node): a node with free workers that
    /// pulls from this executor calls it at least every <c>hold</c>.</summary>
    internal DateTime LastTake => new(Interlocked.Read(ref _lastTakeTicks), DateTimeKind.Utc);

    /// <summary>Actions of the executor's <see cref="Watchdog"/> (re-registrations, tasks taken back from
    /// nodes that no longer hold them, a stall given up).</summary>
    internal long WatchdogActions => Interlocked.Read(ref _watchdogActions);

    internal void CountWatchdogAction()
    {
        Interlocked.Increment(ref _watchdogActions);
        ClusterTelemetry.Add(ClusterTelemetry.WatchdogActions, 1, Tag);
    }

    /// <summary>Takes back the tasks assigned to <paramref name="nodeId"/> before
    /// <paramref name="assignedBefore"/> (the node reports holding none): back to the front of the queue,
    /// counted in <see cref="Reclaimed"/>, no attempt counted; a result the node still sends is dropped.</summary>
    internal int ReclaimFromNode(string nodeId, DateTime assignedBefore)
    {
        lock (_lock)
        {
            var orphans = _assigned.Values.Where(t => t.Node == nodeId && t.AssignedAt < assignedBefore).OrderByDescending(t => t.Id).ToList();
            foreach (var task in orphans)
            {
                _assigned.Remove(task.Id);
                task.Node = null;
                task.Started = false;
                _queue.AddFirst(task);
                _reclaimed++;
            }
            if (orphans.Count > 0)
            {
                Signal();
            }
            ClusterTelemetry.Add(ClusterTelemetry.Reclaimed, orphans.Count, Tag);
            return orphans.Count;
        }
    }

    /// <summary>Nodes whose tasks were taken back because they were lost (<see cref="NodeLost"/>).</summary>
    internal long NodesLost => Interlocked.Read(ref _nodesLost);

    /// <summary>The last node lost and why (diagnostics), or null.</summary>
    internal string? LastNodeLost => Volatile.Read(ref _lastNodeLost);

    /// <summary>The node left the cluster (<paramref name="why"/>: the evidence): its tasks go back to
    /// the queue (at the front), a started one counting an attempt, the others counted apart; past
    /// <c>allowedFailures</c> of either kind the future fails with <see cref="KilledWorkerException"/>.
    /// A result the node sends later is dropped as late.</summary>
    internal void NodeLost(string nodeId, string why = "lost")
    {
        var failed = new List<ClusterTask>();
        long lost = 0;
        lock (_lock)
        {
            if (_assigned.Values.Any(t => t.Node == nodeId))
            {
                _nodesLost++;
                _lastNodeLost = $"{nodeId}: {why}";
                ClusterTelemetry.Add(ClusterTelemetry.NodesLost, 1, Tag);
            }
            foreach (var task in _assigned.Values.Where(t => t.Node == nodeId).OrderByDescending(t => t.Id).ToList())
            {
                _assigned.Remove(task.Id);
                if (task.Started)
                {
                    task.Attempts++;
                    _attemptsLost++;
                    lost++;
                }
                else
                {
                    task.LostBeforeStart++;
                    _lostBeforeStart++;
                }
                Requeue(task, failed);
            }
            Signal();
        }
        ClusterTelemetry.Add(ClusterTelemetry.AttemptsLost, lost, Tag);
        FailKilled(failed);
    }

    /// <summary>Tasks assigned more than <paramref name="age"/> ago whose node never reported them
    /// started (it gave up waiting for its <see cref="Take"/> answer) go back to the queue without
    /// penalty; a late start report or result from that node is then ignored or dropped.</summary>
    internal void ReclaimUnstarted(TimeSpan age)
    {
        var limit = DateTime.UtcNow - age;
        lock (_lock)
        {
            var stale = _assigned.Values.Where(t => !t.Started && t.AssignedAt < limit).OrderByDescending(t => t.Id).ToList();
            foreach (var task in stale)
            {
                _assigned.Remove(task.Id);
                task.Node = null;
                _queue.AddFirst(task);
                _reclaimed++;
            }
            if (stale.Count > 0)
            {
                Signal();
            }
            ClusterTelemetry.Add(ClusterTelemetry.Reclaimed, stale.Count, Tag);
        }
    }

    /// <summary>Fails every pending future with <paramref name="exception"/> and closes the queue.</summary>
    internal void FailAll(Exception exception)
    {
        List<ClusterTask> all;
        lock (_lock)
        {
            _closed = true;
            all = [.. _queue, .. _assigned.Values];
            _failed += all.Count;
            _queue.Clear();
            _assigned.Clear();
            Signal();
        }
        foreach (var task in all)
        {
            if (task.Running || task.Future.SetRunningOrNotifyCancel())
            {
                ClusterTelemetry.Add(ClusterTelemetry.Failed, 1, Tag);
                task.Item.Fail(exception);
            }
            else
            {
                CountCancelled(1); // cancelled while queued
            }
        }
    }

    public async Task<TaskAssignment[]?> Take(string nodeId, int max)
    {
        var deadline = DateTime.UtcNow + _hold;
        Interlocked.Exchange(ref _lastTakeTicks, DateTime.UtcNow.Ticks);
        while (true)
        {
            Task signal;
            var taken = new List<ClusterTask>();
            int cancelled = 0;
            lock (_lock)
            {
                long bytes = 0;
                while (!_closed && taken.Count < Math.Max(max, 1) && _assigned.Count < _maxInFlight && _queue.First is { } first
                       && (taken.Count == 0 || bytes + first.Value.Payload.Length <= MaxTakeBytes))
                {
                    _queue.RemoveFirst();
                    var task = first.Value;
                    if (!task.Running)
                    {
                        if (!task.Future.SetRunningOrNotifyCancel())
                        {
                            _failed++;
                            cancelled++;
                            continue; // cancelled while queued
                        }
                        task.Running = true;
                    }
                    task.Node = nodeId;
                    task.Started = false;
                    task.AssignedAt = DateTime.UtcNow;
                    task.LastNode = nodeId;
                    _assigned[task.Id] = task;
                    bytes += task.Payload.Length;
                    taken.Add(task);
                }
                signal = _work.Task;
            }
            CountCancelled(cancelled);
            if (taken.Count == 0 && Volatile.Read(ref _closed))
            {
                return null; // the node stops pulling from this executor
            }
            if (taken.Count > 0)
            {
                return taken.Select(t => new TaskAssignment(t.Id, t.Payload, t.Item.Timeout ?? _taskTimeout, t.TraceParent)).ToArray();
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                return [];
            }
            await Task.WhenAny(signal, Task.Delay(left)).ConfigureAwait(false);
        }
    }

    public Task Starting(string nodeId, long[] ids)
    {
        lock (_lock)
        {
            foreach (long id in ids)
            {
                if (_assigned.TryGetValue(id, out var task) && task.Node == nodeId)
                {
                    task.Started = true;
                }
            }
        }
        return Task.CompletedTask;
    }

    public Task Completed(string nodeId, TaskResult[] results)
    {
        var done = new List<(ClusterTask Task, TaskResult Result)>();
        var failed = new List<ClusterTask>();
        long late = 0, lost = 0;
        lock (_lock)
        {
            foreach (var result in results)
            {
                if (!_assigned.TryGetValue(result.Id, out var task) || task.Node != nodeId)
                {
                    _lateResultsDropped++;
                    late++;
                    continue;
                }
                _assigned.Remove(result.Id);
                if (result.Outcome == TaskOutcome.WorkerKilled)
                {
                    task.Attempts++;
                    _attemptsLost++;
                    lost++;
                    Requeue(task, failed);
                    Signal();
                }
                else
                {
                    if (result.Outcome == TaskOutcome.Ok)
                    {
                        _done++;
                    }
                    else
                    {
                        _failed++;
                    }
                    done.Add((task, result));
                }
            }
            if (_maxInFlight != int.MaxValue && done.Count > 0)
            {
                Signal(); // room for more tasks in flight
            }
        }
        ClusterTelemetry.Add(ClusterTelemetry.LateResultsDropped, late, Tag);
        ClusterTelemetry.Add(ClusterTelemetry.AttemptsLost, lost, Tag);
        FailKilled(failed);
        foreach (var (task, result) in done)
        {
            switch (result.Outcome)
            {
                case TaskOutcome.Ok:
                    ClusterTelemetry.Add(ClusterTelemetry.Completed, 1, Tag);
                    task.Item.Complete(true, result.Data ?? []);
                    break;
                case TaskOutcome.Error:
                    ClusterTelemetry.Add(ClusterTelemetry.Failed, 1, Tag);
                    task.Item.Complete(false, result.Data ?? []);
                    break;
                case TaskOutcome.TimedOut:
                    ClusterTelemetry.Add(ClusterTelemetry.Failed, 1, Tag);
                    task.Item.Fail(new TimeoutException(result.Message ?? "the task ran longer than its time limit"));
                    break;
                default:
                    ClusterTelemetry.Add(ClusterTelemetry.Failed, 1, Tag);
                    task.Item.Fail(new FuturesException(result.Message ?? "the node could not run the task"));
                    break;
            }
        }
        return Task.CompletedTask;
    }

    // Under the lock: back to the front of the queue, or into `failed` when out of attempts.
    private void Requeue(ClusterTask task, List<ClusterTask> failed)
    {
        task.Node = null;
        task.Started = false;
        if (task.Attempts > task.AllowedFailures || task.LostBeforeStart > task.AllowedFailures || _closed)
        {
            _failed++;
            failed.Add(task);
        }
        else
        {
            _queue.AddFirst(task);
        }
    }

    private void FailKilled(List<ClusterTask> failed)
    {
        ClusterTelemetry.Add(ClusterTelemetry.Failed, failed.Count, Tag);
        foreach (var task in failed)
        {
            task.Item.Fail(new KilledWorkerException(task.Id, task.LastNode ?? "?", task.Attempts, task.LostBeforeStart));
        }
    }

    // Under the lock: wakes every held Take.
    private void Signal()
    {
        var old = _work;
        _work = NewSignal();
        old.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
