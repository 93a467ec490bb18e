namespace CsFutures.Cluster;

/// <summary>One task handed to a node by <see cref="ITaskSource.Take"/>: its id within the
/// submitting executor, its payload, and how long it may run in its worker (null: no limit).</summary>
[GenerateSerializer, Immutable, Alias("CsFutures.Cluster.TaskAssignment")]
public sealed record TaskAssignment(
    [property: Id(0)] long Id,
    [property: Id(1)] byte[] Payload,
    [property: Id(2)] TimeSpan? Timeout);
