using System.Diagnostics;
using CsFutures.Telemetry;

namespace CsFutures.Processes;

/// <summary>
/// One task for a <see cref="ProcessPoolExecutor"/>: the bytes to send to a worker and the future
/// that the worker's reply completes (CPython's <c>_WorkItem</c> and <c>_CallItem</c>).
/// </summary>
/// <remarks>Bridges derive their own to decide what a reply means; <see cref="ProcessPoolExecutor.Submit(ReadOnlyMemory{byte}, TimeSpan?)"/>
/// uses one that returns the reply's bytes.</remarks>
public abstract class ProcessWorkItem
{
    /// <summary>Creates the item.</summary>
    /// <param name="payload">The task's bytes, sent as they are.</param>
    /// <param name="timeout">The most time the task may run in its worker; <c>null</c> takes the pool's
    /// <see cref="ProcessPoolExecutorOptions.TaskTimeout"/>.</param>
    protected ProcessWorkItem(ReadOnlyMemory<byte> payload, TimeSpan? timeout)
    {
        if (timeout is { } t && t <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), t, "timeout must be positive");
        }
        Payload = payload;
        Timeout = timeout;
    }

    /// <summary>The future that this task completes.</summary>
    public abstract Future Future { get; }

    /// <summary>The bytes sent to the worker.</summary>
    public ReadOnlyMemory<byte> Payload { get; private set; }

    /// <summary>The task's own time limit, if any.</summary>
    public TimeSpan? Timeout { get; }

    /// <summary>Completes the future from the worker's reply (<see cref="FrameKind.Ok"/> when
    /// <paramref name="succeeded"/>, else <see cref="FrameKind.Error"/>). Called once, never under a
    /// lock of the pool; must not throw.</summary>
    public abstract void Complete(bool succeeded, byte[] reply);

    /// <summary>Fails the future because the task cannot complete (a broken pool, a dead worker, a
    /// timeout), unless it is done already.</summary>
    public virtual void Fail(Exception exception) => WorkItem.FailFuture(Future, exception);

    /// <summary>Telemetry of this task (queue time, the submitter's span), kept by its pool.</summary>
    internal TaskTrace Trace;

    /// <summary>The task's span, started when the task is sent to its worker.</summary>
    internal Activity? Span;

    /// <summary>The run's start and end as the worker process reported them (UTC), if it did.</summary>
    internal DateTime WorkerStart, WorkerEnd;

    /// <summary>Drops the payload once sent, so that large arguments do not stay alive.</summary>
    internal void ReleasePayload() => Payload = default;
}
