namespace CsFutures;

/// <summary>
/// The states of a <see cref="Future"/>: Python's <c>concurrent.futures._base</c> constants
/// <c>PENDING</c>, <c>RUNNING</c>, <c>CANCELLED</c>, <c>CANCELLED_AND_NOTIFIED</c> and <c>FINISHED</c>.
/// </summary>
public enum FutureState
{
    /// <summary>Python's <c>PENDING</c>: not started and not cancelled.</summary>
    Pending,
    /// <summary>Python's <c>RUNNING</c>: the work is executing; it can no longer be cancelled.</summary>
    Running,
    /// <summary>Python's <c>CANCELLED</c>: cancelled, waiters not yet told.</summary>
    Cancelled,
    /// <summary>Python's <c>CANCELLED_AND_NOTIFIED</c>: cancelled, and waiters were told.</summary>
    CancelledAndNotified,
    /// <summary>Python's <c>FINISHED</c>: completed with a result or an exception.</summary>
    Finished,
}
