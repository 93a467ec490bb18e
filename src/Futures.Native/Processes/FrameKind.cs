using CsFutures.Telemetry;
namespace CsFutures.Processes;

/// <summary>The kinds of frame in the <see cref="WorkerProtocol"/>.</summary>
public enum FrameKind : byte
{
    /// <summary>Pool to worker, first: the initializer payload (empty for none).</summary>
    Init = 1,

    /// <summary>Pool to worker: run this task.</summary>
    Task = 2,

    /// <summary>Pool to worker: run this task, traced. The body is a little-endian <c>uint16</c> length,
    /// that many ASCII bytes of W3C <c>traceparent</c> (the task span's own id: the worker may pass it
    /// on), then the task's bytes as in <see cref="Task"/>. The worker answers <see cref="OkTimed"/> or
    /// <see cref="ErrorTimed"/>. Sent only to workers that declare they understand it
    /// (<see cref="ProcessPoolExecutorOptions.TraceWorkers"/>) and only while the pool's
    /// <see cref="FuturesTelemetry.ActivitySourceName"/> source has listeners.</summary>
    TracedTask = 4,

    /// <summary>Pool to worker: exit now (idle workers at shutdown, or after max_tasks_per_child).</summary>
    Stop = 3,

    /// <summary>Worker to pool: initialized, ready for tasks.</summary>
    Ready = 10,

    /// <summary>Worker to pool: the initializer failed (UTF-8 text); the worker exits.</summary>
    InitFailed = 11,

    /// <summary>Worker to pool: the task's result.</summary>
    Ok = 12,

    /// <summary>Worker to pool: the task failed; the body describes the error.</summary>
    Error = 13,

    /// <summary>Worker to pool, for a <see cref="TracedTask"/>: two little-endian <c>int64</c>, the
    /// run's start and end in nanoseconds since the Unix epoch (the worker's clock), then the body of
    /// <see cref="Ok"/>.</summary>
    OkTimed = 14,

    /// <summary>Worker to pool, for a <see cref="TracedTask"/>: the run's start and end as in
    /// <see cref="OkTimed"/>, then the body of <see cref="Error"/>.</summary>
    ErrorTimed = 15,
}
