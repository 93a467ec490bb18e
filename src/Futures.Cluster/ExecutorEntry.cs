namespace CsFutures.Cluster;

/// <summary>One registered executor: its id and its queue.</summary>
[GenerateSerializer, Immutable, Alias("CsFutures.Cluster.ExecutorEntry")]
public sealed record ExecutorEntry(
    [property: Id(0)] Guid ExecutorId,
    [property: Id(1)] ITaskSource Source);
