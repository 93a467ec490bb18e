namespace CsFutures;

/// <summary>
/// The executor is broken and cannot run work: Python's <c>concurrent.futures.BrokenExecutor</c>.
/// </summary>
/// <remarks>Python's <c>BrokenExecutor</c> derives from <c>RuntimeError</c>; its .NET counterpart
/// <see cref="InvalidOperationException"/> is the base here.</remarks>
public class BrokenExecutorException : InvalidOperationException
{
    /// <summary>Creates the error with a message.</summary>
    public BrokenExecutorException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
