namespace CsFutures.Cluster;

/// <summary>A payload is over <see cref="ClusterExecutorOptions.MaxPayload"/>: only its future fails,
/// and the payload never reaches Orleans (an oversized Orleans message closes the whole connection).</summary>
public sealed class PayloadTooLargeException : FuturesException
{
    /// <summary>Creates the error.</summary>
    public PayloadTooLargeException(long size, long limit)
        : base($"the payload of {size} bytes is over the limit of {limit} bytes")
    {
        Size = size;
        Limit = limit;
    }

    /// <summary>The payload's size in bytes.</summary>
    public long Size { get; }

    /// <summary>The limit in bytes.</summary>
    public long Limit { get; }
}
