using System.Diagnostics;

namespace CsFutures;

/// <summary>A point in monotonic time computed once from an optional timeout (Python's
/// <c>end_time = timeout + time.monotonic()</c>); <c>null</c> timeout means never.</summary>
internal readonly struct Deadline
{
    private readonly long _endTimestamp; // Stopwatch ticks; long.MaxValue = never

    private Deadline(long endTimestamp) => _endTimestamp = endTimestamp;

    public static Deadline Never => new(long.MaxValue);

    public static Deadline After(TimeSpan? timeout)
    {
        if (timeout is not { } t)
        {
            return Never;
        }
        if (t <= TimeSpan.Zero)
        {
            return new Deadline(Stopwatch.GetTimestamp());
        }
        long ticks = (long)(t.TotalSeconds * Stopwatch.Frequency);
        long now = Stopwatch.GetTimestamp();
        return new Deadline(ticks >= long.MaxValue - now ? long.MaxValue : now + ticks);
    }

    public bool IsNever => _endTimestamp == long.MaxValue;

    /// <summary>The time left, clamped at zero; <see cref="Timeout.InfiniteTimeSpan"/> when never.</summary>
    public TimeSpan Remaining
    {
        get
        {
            if (IsNever)
            {
                return Timeout.InfiniteTimeSpan;
            }
            long left = _endTimestamp - Stopwatch.GetTimestamp();
            return left <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds((double)left / Stopwatch.Frequency);
        }
    }

    /// <summary>The time left as whole milliseconds for the blocking waits, rounded up so that a
    /// wait never returns before the deadline; -1 (infinite) when never.</summary>
    public int RemainingMilliseconds
    {
        get
        {
            if (IsNever)
            {
                return Timeout.Infinite;
            }
            long left = _endTimestamp - Stopwatch.GetTimestamp();
            if (left <= 0)
            {
                return 0;
            }
            double ms = Math.Ceiling(left * 1000.0 / Stopwatch.Frequency);
            return ms >= int.MaxValue - 1 ? int.MaxValue - 1 : (int)ms;
        }
    }

    public bool Expired => !IsNever && Stopwatch.GetTimestamp() >= _endTimestamp;
}
