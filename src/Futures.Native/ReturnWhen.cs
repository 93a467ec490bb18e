namespace CsFutures;

/// <summary>
/// When <see cref="Futures.Wait{TFuture}"/> returns:
/// Python's <c>FIRST_COMPLETED</c>, <c>FIRST_EXCEPTION</c> and <c>ALL_COMPLETED</c>.
/// </summary>
public enum ReturnWhen
{
    /// <summary>Python's <c>FIRST_COMPLETED</c>: return when any future finishes or is cancelled.</summary>
    FirstCompleted,
    /// <summary>Python's <c>FIRST_EXCEPTION</c>: return when any future finishes by raising an exception,
    /// or when all are done.</summary>
    FirstException,
    /// <summary>Python's <c>ALL_COMPLETED</c>: return when all futures finish or are cancelled.</summary>
    AllCompleted,
}
