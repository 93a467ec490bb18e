namespace CsFutures.Cluster;

/// <summary>
/// The executor lost its cluster (no membership answer for
/// <see cref="ClusterExecutorOptions.ClusterLostTimeout"/>, e.g. the primary node of a development
/// cluster died): every pending future fails with it, and the executor is broken.
/// </summary>
public sealed class ClusterUnavailableException : BrokenExecutorException
{
    /// <summary>Creates the error.</summary>
    public ClusterUnavailableException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
