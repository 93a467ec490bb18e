using System.Diagnostics;

namespace CsFutures.Telemetry;

/// <summary>What the telemetry keeps about one task between its submit and its end: whether its outcome
/// was counted, and the times and the parent span, set only when a listener wants them (see
/// <see cref="ExecutorCounters"/>). Those live in an object made only then, so that without listeners a
/// task carries 16 bytes of trace (the futures of <c>Submit</c> and <c>Map</c> carry it), not 32.</summary>
internal struct TaskTrace
{
    private Times? _times;

    /// <summary>1 once the task's outcome was counted (each task is counted once).</summary>
    public int Counted;

    /// <summary><see cref="Stopwatch.GetTimestamp"/> at submit, when the queue-wait histogram is on; else 0.</summary>
    public long QueuedAt
    {
        readonly get => _times?.QueuedAt ?? 0;
        set
        {
            if (value != 0 || _times is not null)
            {
                (_times ??= new Times()).QueuedAt = value;
            }
        }
    }

    /// <summary>The activity current at submit (the task span's parent), when the source has listeners.</summary>
    public Activity? Parent
    {
        readonly get => _times?.Parent;
        set
        {
            if (value is not null || _times is not null)
            {
                (_times ??= new Times()).Parent = value;
            }
        }
    }

    /// <summary><see cref="Stopwatch.GetTimestamp"/> when a worker took the task, when timing is on; else 0.</summary>
    public long StartedAt
    {
        readonly get => _times?.StartedAt ?? 0;
        set
        {
            if (value != 0 || _times is not null)
            {
                (_times ??= new Times()).StartedAt = value;
            }
        }
    }

    /// <summary>The part of a trace that only listeners need.</summary>
    private sealed class Times
    {
        public long QueuedAt;
        public Activity? Parent;
        public long StartedAt;
    }
}
