using System.Diagnostics;
using CsFutures.Cluster.Contracts;
using CsFutures.Telemetry;
using Microsoft.Extensions.Hosting;

namespace CsFutures.Cluster.Node;

/// <summary>
/// A node's hosted service: lists the executors in the directory and, while the node has free workers,
/// pulls tasks from each (<see cref="ITaskSource.Take"/>), reports them started, runs them on the local
/// process pool and sends the results back.
/// </summary>
internal sealed class TaskPuller : BackgroundService
{
    private const int MaxTake = 64;

    /// <summary>Tasks a node holds per worker process: one running, one next.</summary>
    internal const int TasksPerWorker = 2;

    /// <summary>How long a node waits for a <see cref="ITaskSource.Take"/> answer before it gives the
    /// call up (an executor that vanished without unregistering would otherwise hold the node's free
    /// slots until Orleans' response timeout). Tasks assigned by an abandoned call are reclaimed by
    /// their executor (<see cref="Client.TaskQueue.ReclaimUnstarted"/>).</summary>
    internal static readonly TimeSpan TakeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The longest a node waits for the executor to acknowledge <see cref="ITaskSource.Starting"/>
    /// before it runs the tasks anyway.</summary>
    internal static readonly TimeSpan StartingTimeout = TimeSpan.FromSeconds(2);

    /// <summary>How long an executor may be missing from the directory listings before the node stops
    /// pulling from it. An executor re-registers every second, so only one that is gone stays missing
    /// this long; one that closes ends its loops itself (its <see cref="ITaskSource.Take"/> answers
    /// null), and one that died stops answering (three failed Takes end the loop).</summary>
    internal static readonly TimeSpan AbsentGrace = TimeSpan.FromSeconds(30);

    private readonly NodeState _node;
    private readonly NodeCounters _counters;
    private readonly IGrainFactory _grains;
    private readonly SemaphoreSlim _slots;
    private readonly Dictionary<Guid, (Task Loop, CancellationTokenSource Stop)> _loops = [];
    private readonly Action<string> _log;
    private readonly Dictionary<Guid, DateTime> _listedAt = [];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, bool> _closed = [];
    private string _lastListing = "";

    public TaskPuller(NodeState node, IGrainFactory grains, ILocalSiloDetails silo, NodeCounters counters, Action<string> log)
        : this(SetId(node, silo), grains, counters, log)
    {
    }

    /// <summary>A puller outside a silo (the tests drive <see cref="PullAsync"/> with their own source).</summary>
    internal TaskPuller(NodeState node, IGrainFactory grains, NodeCounters counters, Action<string> log)
    {
        _counters = counters;
        _log = log;
        _node = node;
        _grains = grains;
        // Two tasks per worker: one running and the next one waiting in the node, so that a worker never
        // waits for a Take round trip (CPython's process pool likewise queues max_workers + 1 calls).
        // Taken tasks count as running: they are no longer cancellable.
        _slots = new SemaphoreSlim(TasksPerWorker * node.Pool.MaxWorkers, TasksPerWorker * node.Pool.MaxWorkers);
    }

    /// <summary>Worker slots free now (taken ones belong to a held Take or a task in the node).</summary>
    internal int FreeSlots => _slots.CurrentCount;

    private static NodeState SetId(NodeState node, ILocalSiloDetails silo)
    {
        node.NodeId = silo.SiloAddress.ToParsableString();
        return node;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var directory = _grains.GetGrain<IExecutorDirectoryGrain>(ClusterNames.DirectoryKey);
        string? listingFailure = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var listed = await directory.List().WaitAsync(TakeTimeout, stoppingToken).ConfigureAwait(false);
                if (listingFailure is not null)
                {
                    _log("the executor directory answers again");
                    listingFailure = null;
                }
                OnListing(listed, stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // The directory is (re)activating elsewhere; try again. Known executors are still pulled from.
                if (listingFailure is null)
                {
                    listingFailure = $"{ex.GetType().Name}: {ex.Message}";
                    _log($"the executor directory did not answer ({listingFailure}); pulling on from the {_loops.Count} executor(s) known");
                }
            }
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        await Task.WhenAll(_loops.Values.Select(l => l.Loop)).ConfigureAwait(false);
    }

    // Starts a loop for each executor listed that has none, and stops the loops of executors absent from
    // the directory for longer than AbsentGrace: one listing without an executor is no reason to stop
    // (the directory may have been re-activated empty on another node, before the executor's next Register).
    private void OnListing(ExecutorEntry[] listed, CancellationToken stoppingToken)
    {
        var now = DateTime.UtcNow;
        string listing = string.Join(", ", listed.Select(e => e.ExecutorId).Order());
        if (listing != _lastListing)
        {
            _log($"the executor directory lists {listed.Length} executor(s){(listed.Length > 0 ? ": " + listing : "")}");
            _lastListing = listing;
        }
        foreach (var entry in listed)
        {
            _listedAt[entry.ExecutorId] = now;
            if (_closed.ContainsKey(entry.ExecutorId))
            {
                continue; // closed for good: its entry goes at its Unregister or expiry
            }
            if (!_loops.TryGetValue(entry.ExecutorId, out var loop) || loop.Loop.IsCompleted)
            {
                loop.Stop?.Dispose();
                var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                _log($"pulling from executor {entry.ExecutorId}");
                _loops[entry.ExecutorId] = (Task.Run(() => PullAsync(entry.Source, stop.Token, stoppingToken, entry.ExecutorId), CancellationToken.None), stop);
            }
        }
        foreach (var id in _loops.Keys.Where(id => _listedAt[id] < now).ToList())
        {
            var (loop, stop) = _loops[id];
            if (loop.IsCompleted)
            {
                stop.Dispose();
                _loops.Remove(id);
                _listedAt.Remove(id);
                _closed.TryRemove(id, out _);
            }
            else if (now - _listedAt[id] > AbsentGrace && !stop.IsCancellationRequested)
            {
                // Gone for good (it would have re-registered): a Take held towards it gives its slots back now.
                _log($"executor {id} has been absent from the directory for {(now - _listedAt[id]).TotalSeconds:F0} s: stopping its pull loop");
                stop.Cancel();
            }
        }
    }

    /// <summary>Pulls from one executor until it closes, stops answering, is dropped from the node's loops
    /// (<paramref name="token"/>) or the node stops; results of the tasks it started are still sent until
    /// the node stops (<paramref name="nodeToken"/>). Never throws: why it ended is logged. Every worker
    /// slot it takes is either handed to a task's run (which gives it back) or given back here, on every
    /// way out (<c>finally</c>).</summary>
    internal async Task PullAsync(ITaskSource source, CancellationToken token, CancellationToken nodeToken, Guid executorId = default)
    {
        var sender = new ResultSender(source, _node.NodeId, nodeToken, _log);
        int failures = 0;
        int held = 0; // slots taken and not yet handed to a task's run
        string why = "the node dropped it";
        try
        {
            while (!token.IsCancellationRequested && failures < 3)
            {
                await _slots.WaitAsync(token).ConfigureAwait(false);
                held = 1;
                while (held < MaxTake && _slots.Wait(0))
                {
                    held++;
                }
                TaskAssignment[]? tasks;
                try
                {
                    tasks = await source.Take(_node.NodeId, held).WaitAsync(TakeTimeout, token).ConfigureAwait(false);
                    failures = 0;
                }
                catch (Exception ex) when (!token.IsCancellationRequested)
                {
                    _slots.Release(held);
                    held = 0;
                    failures++;
                    why = $"{failures} Take calls failed, the last with {ex.GetType().Name}: {ex.Message}";
                    await Task.Delay(TimeSpan.FromMilliseconds(500), token).ConfigureAwait(false);
                    continue;
                }
                if (tasks is null)
                {
                    why = "the executor closed";
                    _closed[executorId] = true;
                    return;
                }
                if (tasks.Length < held)
                {
                    _slots.Release(held - tasks.Length);
                    held = tasks.Length;
                }
                if (tasks.Length == 0)
                {
                    continue;
                }
                sender.Started(tasks.Length);
                _counters.OnStarted(tasks.Length);
                try
                {
                    await source.Starting(_node.NodeId, tasks.Select(t => t.Id).ToArray())
                        .WaitAsync(StartingTimeout).ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // Unanswered: run them anyway; the executor takes back tasks it never heard started
                    // (MembershipWatcher.StartReportTimeout), so they run at least once.
                }
                foreach (var task in tasks)
                {
                    held--; // the run gives it back
                    Run(task, sender);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            why = nodeToken.IsCancellationRequested ? "the node is stopping" : "the node dropped it";
        }
        catch (Exception ex)
        {
            // E.g. a Take that failed as the loop was being cancelled: the loop ends, its slots come back.
            why = $"{ex.GetType().Name}: {ex.Message}";
        }
        finally
        {
            if (held > 0)
            {
                _slots.Release(held);
            }
            sender.Complete();
            _log($"stopped pulling from executor {executorId}: {why}");
        }
    }

    private void Run(TaskAssignment task, ResultSender sender)
    {
        Future<byte[]> future;
        var current = Activity.Current;
        var activity = StartActivity(task);
        try
        {
            // Submitted under the task's activity: the pool's task span (and its worker's) are its children.
            future = _node.Pool.Submit(task.Payload, task.Timeout);
        }
        catch (Exception ex)
        {
            Activity.Current = current;
            EndActivity(activity, "failed");
            _slots.Release();
            _counters.OnFinished(ok: false);
            sender.Add(new TaskResult(task.Id, TaskOutcome.Failed, null, $"the node could not submit the task: {ex.Message}"));
            return;
        }
        finally
        {
            Activity.Current = current;
        }
        future.AddDoneCallback(f =>
        {
            _slots.Release();
            var result = ToResult(task.Id, f);
            EndActivity(activity, result.Outcome == TaskOutcome.Ok ? "completed" : "failed");
            _counters.OnFinished(result.Outcome == TaskOutcome.Ok);
            sender.Add(result);
        });
    }

    /// <summary>Starts (and makes current) the span of a task's run on this node, child of the activity
    /// that submitted it (<see cref="TaskAssignment.TraceParent"/>); null when nobody listens and the
    /// task carries no trace context.</summary>
    private Activity? StartActivity(TaskAssignment task)
    {
        ActivityContext parent = default;
        bool traced = task.TraceParent is { } traceParent && ActivityContext.TryParse(traceParent, null, out parent);
        if (ClusterTelemetry.Source.HasListeners())
        {
            Activity.Current = null; // the submitter's span is the only parent
            var activity = ClusterTelemetry.Source.StartActivity(ClusterTelemetry.TaskActivityName, ActivityKind.Consumer, parent);
            if (activity is not null)
            {
                activity.SetTag(ClusterTelemetry.NodeTag, _node.NodeId);
                activity.SetTag(ClusterTelemetry.TaskIdTag, task.Id);
                return activity;
            }
        }
        if (!traced)
        {
            return null;
        }
        // Nobody records the cluster span, but the pool's spans still join the submitter's trace.
        Activity.Current = null;
        var bridge = new Activity(ClusterTelemetry.TaskActivityName);
        bridge.SetParentId(parent.TraceId, parent.SpanId, parent.TraceFlags);
        return bridge.Start();
    }

    private static void EndActivity(Activity? activity, string outcome)
    {
        if (activity is null)
        {
            return;
        }
        var current = Activity.Current;
        activity.SetTag(FuturesTelemetry.OutcomeTag, outcome);
        if (outcome == "failed")
        {
            activity.SetStatus(ActivityStatusCode.Error);
        }
        activity.Dispose();
        Activity.Current = current;
    }

    private TaskResult ToResult(long id, Future<byte[]> future)
    {
        var error = future.Exception(TimeSpan.Zero);
        if (error is null)
        {
            var data = future.Result(TimeSpan.Zero);
            return data.Length <= _node.MaxResult
                ? new TaskResult(id, TaskOutcome.Ok, data, null)
                : new TaskResult(id, TaskOutcome.Failed, null,
                    $"the result of {data.Length} bytes is over the node's limit of {_node.MaxResult} bytes");
        }
        return error switch
        {
            WorkerTaskException w => new TaskResult(id, TaskOutcome.Error, w.Payload, null),
            TimeoutException t => new TaskResult(id, TaskOutcome.TimedOut, null, t.Message),
            BrokenProcessPoolException b when _node.Pool.Broken is null => new TaskResult(id, TaskOutcome.WorkerKilled, null, b.Message),
            _ => new TaskResult(id, TaskOutcome.Failed, null, $"{error.GetType().Name}: {error.Message}"),
        };
    }
}
