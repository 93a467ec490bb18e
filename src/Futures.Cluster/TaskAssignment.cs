namespace CsFutures.Cluster;

/// <summary>One task handed to a node by <see cref="ITaskSource.Take"/>: its id within the
/// submitting executor and its payload.</summary>
[GenerateSerializer, Immutable, Alias("CsFutures.Cluster.TaskAssignment")]
public sealed record TaskAssignment(
    [property: Id(0)] long Id,
    [property: Id(1)] byte[] Payload);
