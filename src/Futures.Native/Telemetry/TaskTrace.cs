using System.Diagnostics;

namespace CsFutures;

/// <summary>What the telemetry keeps about one task between its submit and its end: set only when a
/// listener wants it (see <see cref="ExecutorCounters"/>).</summary>
internal struct TaskTrace
{
    /// <summary><see cref="Stopwatch.GetTimestamp"/> at submit, when the queue-wait histogram is on; else 0.</summary>
    public long QueuedAt;

    /// <summary>The activity current at submit (the task span's parent), when the source has listeners.</summary>
    public Activity? Parent;

    /// <summary><see cref="Stopwatch.GetTimestamp"/> when a worker took the task, when timing is on; else 0.</summary>
    public long StartedAt;

    /// <summary>1 once the task's outcome was counted (each task is counted once).</summary>
    public int Counted;
}
