namespace CsFutures.Interop;

/// <summary>
/// A worker of an interpreter pool failed to initialize (its initializer raised):
/// Python's <c>concurrent.futures.interpreter.BrokenInterpreterPool</c> (3.14), a
/// <see cref="BrokenThreadPoolException"/> as the Python class is a <c>BrokenThreadPool</c>.
/// </summary>
public class BrokenInterpreterPoolException : BrokenThreadPoolException
{
    /// <summary>Creates the error with a message.</summary>
    public BrokenInterpreterPoolException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
