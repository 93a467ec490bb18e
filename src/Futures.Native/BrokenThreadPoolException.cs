namespace CsFutures;

/// <summary>
/// A worker thread of a <see cref="ThreadPoolExecutor"/> failed to initialize:
/// Python's <c>concurrent.futures.thread.BrokenThreadPool</c>.
/// </summary>
public class BrokenThreadPoolException : BrokenExecutorException
{
    /// <summary>Creates the error with a message.</summary>
    public BrokenThreadPoolException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
