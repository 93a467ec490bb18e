namespace CsFutures;

/// <summary>
/// The future was cancelled: Python's <c>concurrent.futures.CancelledError</c>.
/// </summary>
/// <remarks>
/// It derives from <see cref="OperationCanceledException"/> (not <see cref="FuturesException"/>) so that
/// .NET code that handles cancellation the usual way also handles a cancelled future.
/// </remarks>
public class CancelledException : OperationCanceledException
{
    /// <summary>Creates the error; Python's <c>CancelledError()</c> has no message.</summary>
    public CancelledException()
        : base(string.Empty)
    {
    }

    /// <summary>Creates the error with a message.</summary>
    public CancelledException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
