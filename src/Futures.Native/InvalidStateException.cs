namespace CsFutures;

/// <summary>
/// The operation is not allowed in the future's current state, such as setting the result of a done
/// future: Python's <c>concurrent.futures.InvalidStateError</c>.
/// </summary>
public class InvalidStateException : FuturesException
{
    /// <summary>Creates the error with a message (CPython's shape: <c>"FINISHED: &lt;Future ...&gt;"</c>).</summary>
    public InvalidStateException(string message)
        : base(message)
    {
    }
}
