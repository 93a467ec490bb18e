namespace CsFutures;

/// <summary>
/// Base class for the future-related errors: Python's <c>concurrent.futures._base.Error</c>.
/// </summary>
public class FuturesException : Exception
{
    /// <summary>Creates the error with a message.</summary>
    public FuturesException(string? message = null, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
