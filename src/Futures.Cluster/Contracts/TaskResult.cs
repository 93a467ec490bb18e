namespace CsFutures.Cluster.Contracts;

/// <summary>How one task ended on a node, sent back by <see cref="ITaskSource.Completed"/>.</summary>
[GenerateSerializer, Immutable, Alias("CsFutures.Cluster.TaskResult")]
public sealed record TaskResult(
    [property: Id(0)] long Id,
    [property: Id(1)] TaskOutcome Outcome,
    [property: Id(2)] byte[]? Data,
    [property: Id(3)] string? Message);
