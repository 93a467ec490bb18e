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

    /// <summary>Creates the error for a worker process that ended.</summary>
    /// <param name="message">What happened to the pool or the task (CPython's wording).</param>
    /// <param name="processId">The worker's process id.</param>
    /// <param name="exitCode">The worker's exit code as the OS reports it (on Unix, 128 + n for a
    /// process killed by signal n).</param>
    /// <param name="detail">Why, in words: the exit code explained, or the initializer's traceback.</param>
    public BrokenProcessPoolException(string message, int processId, int? exitCode, string detail)
        : base(message)
    {
        ProcessId = processId;
        ExitCode = exitCode;
        Detail = detail;
    }

    /// <summary>The process id of the worker that ended, when one did.</summary>
    public int? ProcessId { get; }

    /// <summary>The exit code of the worker that ended, when known.</summary>
    public int? ExitCode { get; }

    /// <summary>What ended the worker, in words (CPython attaches such text as the
    /// <c>__cause__</c>, a <c>_RemoteTraceback</c>).</summary>
    public string? Detail { get; }
}
