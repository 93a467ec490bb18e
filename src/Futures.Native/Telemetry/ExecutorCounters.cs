using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace CsFutures.Telemetry;

/// <summary>
/// One executor's telemetry: the counters behind <see cref="ExecutorStats"/> (always kept, one
/// interlocked increment each) and the calls that feed <see cref="FuturesTelemetry"/>'s instruments
/// and task activities, each guarded by <see cref="Instrument.Enabled"/> or
/// <see cref="ActivitySource.HasListeners"/> so that nothing else happens without a listener.
/// </summary>
internal sealed class ExecutorCounters
{
    private readonly Func<long> _queued;
    private readonly Func<long> _workers;
    private readonly TaskCounts _tasks = new();
    private long _workerStarts, _workerDeaths, _workerRestarts;

    public ExecutorCounters(string name, Func<long> queued, Func<long> workers)
    {
        Name = name;
        Tag = new KeyValuePair<string, object?>(FuturesTelemetry.ExecutorTag, name);
        _queued = queued;
        _workers = workers;
        FuturesTelemetry.Register(this);
    }

    public string Name { get; }

    public KeyValuePair<string, object?> Tag { get; }

    public long Queued() => _queued();

    public long Workers() => _workers();

    public ExecutorStats Snapshot() => new(
        Name,
        _tasks.Read(TaskCounts.Kind.Submitted),
        _tasks.Read(TaskCounts.Kind.Completed),
        _tasks.Read(TaskCounts.Kind.Failed),
        _tasks.Read(TaskCounts.Kind.Cancelled),
        _queued(),
        _workers(),
        Interlocked.Read(ref _workerStarts),
        Interlocked.Read(ref _workerDeaths),
        Interlocked.Read(ref _workerRestarts));

    /// <summary>A task was accepted; call before a worker can see it.</summary>
    public void Submitted(ref TaskTrace trace)
    {
        _tasks.Add(TaskCounts.Kind.Submitted);
        if (FuturesTelemetry.Submitted.Enabled)
        {
            FuturesTelemetry.Submitted.Add(1, Tag);
        }
        if (FuturesTelemetry.QueueWait.Enabled)
        {
            trace.QueuedAt = Stopwatch.GetTimestamp();
        }
        if (FuturesTelemetry.Source.HasListeners())
        {
            trace.Parent = Activity.Current;
        }
    }

    /// <summary>A submit that counted the task failed after all (no thread could start): it is not counted.</summary>
    public void Unsubmitted() => _tasks.Add(TaskCounts.Kind.Submitted, -1);

    /// <summary>A worker took the task: notes the time, when a histogram wants it.</summary>
    public void Started(ref TaskTrace trace)
    {
        if (FuturesTelemetry.Duration.Enabled || FuturesTelemetry.QueueWait.Enabled)
        {
            trace.StartedAt = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>Records the queue wait and the duration of a task that ran (not of a cancelled one);
    /// <paramref name="ran"/> overrides the measured run time (a worker process's report).</summary>
    public void RecordTimes(ref TaskTrace trace, string? outcome, TimeSpan? ran = null)
    {
        long started = trace.StartedAt;
        trace.StartedAt = 0;
        if (started == 0 || outcome is null or "cancelled")
        {
            return;
        }
        if (trace.QueuedAt != 0 && FuturesTelemetry.QueueWait.Enabled)
        {
            FuturesTelemetry.QueueWait.Record(Stopwatch.GetElapsedTime(trace.QueuedAt, started).TotalSeconds, Tag);
        }
        if (FuturesTelemetry.Duration.Enabled)
        {
            FuturesTelemetry.Duration.Record((ran ?? Stopwatch.GetElapsedTime(started)).TotalSeconds, Tag);
        }
    }

    /// <summary>Starts the span of a task that runs on this thread, child of the submitter's span, or
    /// null without listeners. The caller disposes it through <see cref="Ended"/>.</summary>
    public Activity? StartRunActivity(ref TaskTrace trace)
    {
        if (!FuturesTelemetry.Source.HasListeners())
        {
            return null;
        }
        Activity.Current = null; // a worker thread's span has only the submitter's span as parent
        var parent = trace.Parent;
        trace.Parent = null;
        var activity = FuturesTelemetry.Source.StartActivity(
            FuturesTelemetry.TaskActivityName, ActivityKind.Internal, parent?.Context ?? default);
        activity?.SetTag(FuturesTelemetry.ExecutorTag, Name);
        return activity;
    }

    /// <summary>The task ran (on this thread): counts its outcome once, records its duration, ends its span.</summary>
    public void Ended(ref TaskTrace trace, Future future, Activity? activity)
    {
        string? outcome = Count(ref trace, future);
        RecordTimes(ref trace, outcome);
        if (activity is not null)
        {
            Close(activity, outcome);
            activity.Dispose();
        }
    }

    /// <summary>A task that ended without running here (cancelled at shutdown, failed by a broken pool,
    /// or completed by a worker process): counts its outcome once.</summary>
    public string? Count(ref TaskTrace trace, Future future)
    {
        string? outcome = OutcomeOf(future);
        if (outcome is null || Interlocked.Exchange(ref trace.Counted, 1) != 0)
        {
            return outcome;
        }
        Counter<long> counter;
        switch (outcome)
        {
            case "completed":
                _tasks.Add(TaskCounts.Kind.Completed);
                counter = FuturesTelemetry.Completed;
                break;
            case "failed":
                _tasks.Add(TaskCounts.Kind.Failed);
                counter = FuturesTelemetry.Failed;
                break;
            default:
                _tasks.Add(TaskCounts.Kind.Cancelled);
                counter = FuturesTelemetry.Cancelled;
                break;
        }
        if (counter.Enabled)
        {
            counter.Add(1, Tag);
        }
        return outcome;
    }

    /// <summary>Worker-process events of a process pool.</summary>
    public void WorkerStarted()
    {
        Interlocked.Increment(ref _workerStarts);
        if (FuturesTelemetry.WorkerStarts.Enabled)
        {
            FuturesTelemetry.WorkerStarts.Add(1, Tag);
        }
    }

    /// <summary>A worker process ended unexpectedly.</summary>
    public void WorkerDied()
    {
        Interlocked.Increment(ref _workerDeaths);
        if (FuturesTelemetry.WorkerDeaths.Enabled)
        {
            FuturesTelemetry.WorkerDeaths.Add(1, Tag);
        }
    }

    /// <summary><paramref name="count"/> replacement workers were reserved.</summary>
    public void WorkersRestarted(int count)
    {
        if (count <= 0)
        {
            return;
        }
        Interlocked.Add(ref _workerRestarts, count);
        if (FuturesTelemetry.WorkerRestarts.Enabled)
        {
            FuturesTelemetry.WorkerRestarts.Add(count, Tag);
        }
    }

    /// <summary>Tags a finished span with its outcome (and an error status for a failure).</summary>
    public static void Close(Activity activity, string? outcome)
    {
        if (outcome is not null)
        {
            activity.SetTag(FuturesTelemetry.OutcomeTag, outcome);
        }
        if (outcome == "failed")
        {
            activity.SetStatus(ActivityStatusCode.Error);
        }
    }

    private static string? OutcomeOf(Future future) => future.State switch
    {
        FutureState.Finished => future.FinishedWithException ? "failed" : "completed",
        FutureState.Cancelled or FutureState.CancelledAndNotified => "cancelled",
        _ => null,
    };
}
