namespace CsFutures;

/// <summary>The kinds of frame in the <see cref="WorkerProtocol"/>.</summary>
public enum FrameKind : byte
{
    /// <summary>Pool to worker, first: the initializer payload (empty for none).</summary>
    Init = 1,

    /// <summary>Pool to worker: run this task.</summary>
    Task = 2,

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
}
