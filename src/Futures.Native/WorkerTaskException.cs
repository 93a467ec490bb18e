namespace CsFutures;

/// <summary>
/// A worker process reported that a task failed (an error reply); <see cref="Payload"/> holds the
/// worker's description of the error, in whatever encoding the worker and its caller agreed on.
/// Python's process pool re-raises the task's own exception instead (see Futures.Interop).
/// </summary>
public sealed class WorkerTaskException : FuturesException
{
    /// <summary>Creates the error from the worker's error reply.</summary>
    public WorkerTaskException(byte[] payload)
        : base("the task failed in its worker process")
    {
        Payload = payload;
    }

    /// <summary>The bytes of the worker's error reply.</summary>
    public byte[] Payload { get; }
}
