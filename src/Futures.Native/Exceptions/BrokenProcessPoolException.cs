namespace CsFutures;

/// <summary>
/// A worker process of a process pool terminated abruptly or failed to initialize:
/// Python's <c>concurrent.futures.process.BrokenProcessPool</c>.
/// </summary>
public class BrokenProcessPoolException : BrokenExecutorException
{
    /// <summary>Creates the error with a message.</summary>
    public BrokenProcessPoolException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
