namespace CsFutures.Processes;

/// <summary>Where a worker is in its life.</summary>
internal enum WorkerState
{
    /// <summary>Reserved by the pool and being spawned, or started and not yet ready.</summary>
    Starting,

    /// <summary>Ready, without a task.</summary>
    Idle,

    /// <summary>Running <see cref="WorkerProcess.Current"/>.</summary>
    Busy,

    /// <summary>Asked to stop (shutdown, or max_tasks_per_child reached).</summary>
    Stopping,

    /// <summary>Gone.</summary>
    Exited,
}
