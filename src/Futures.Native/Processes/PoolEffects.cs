namespace CsFutures.Processes;

/// <summary>
/// What a transition of the <see cref="WorkerTable"/> decided, to be done once the pool's lock is
/// released: spawning the workers it reserved, writing frames, signalling workers, logging, and
/// completing or failing futures (whose callbacks run user code). Nothing here may run under the lock:
/// a spawn takes milliseconds, and a submit or a worker's reply must not wait behind it.
/// </summary>
internal sealed class PoolEffects
{
    /// <summary>Workers reserved in the table, to spawn (bind the socket, start the process and its reader).</summary>
    public List<WorkerProcess> Spawns { get; } = [];

    /// <summary>Tasks to write to idle workers.</summary>
    public List<(WorkerProcess Worker, ProcessWorkItem Item)> Sends { get; } = [];

    /// <summary>Workers to send a Stop frame.</summary>
    public List<WorkerProcess> Stops { get; } = [];

    /// <summary>Workers to signal (SIGTERM or SIGKILL).</summary>
    public List<(WorkerProcess Worker, int Signal)> Signals { get; } = [];

    /// <summary>Futures to fail, each with its error.</summary>
    public List<(ProcessWorkItem Item, Exception Error)> Failures { get; } = [];

    /// <summary>Log entries, written in order.</summary>
    public List<Action> Logs { get; } = [];

    /// <summary>A reply that completes its task's future.</summary>
    public (ProcessWorkItem Item, bool Succeeded, byte[] Reply)? Completion { get; set; }

    /// <summary>Cancelled tasks dropped from the queue (for the telemetry).</summary>
    public List<ProcessWorkItem> Dropped { get; } = [];

    /// <summary>Workers that ended unexpectedly in this transition (for the telemetry).</summary>
    public int Deaths { get; set; }

    /// <summary>Replacement workers reserved in this transition (for the telemetry).</summary>
    public int Restarts { get; set; }

    /// <summary>The pool is shut down and every worker is gone: <see cref="ProcessPoolExecutor.Join"/> returns.</summary>
    public bool Terminated { get; set; }

    /// <summary>True when something may block for long (a spawn) or enter the kernel for another
    /// process (a signal): the bridge's <see cref="ProcessPoolExecutorOptions.RunBlocking"/> wraps those.</summary>
    public bool HasBlockingWork => Spawns.Count > 0 || Signals.Count > 0;

    /// <summary>Adds a failure for each of <paramref name="items"/>.</summary>
    public void FailAll(IEnumerable<ProcessWorkItem> items, Exception error)
    {
        foreach (var item in items)
        {
            Failures.Add((item, error));
        }
    }
}
