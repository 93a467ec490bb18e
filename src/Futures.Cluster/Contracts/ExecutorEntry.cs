
namespace CsFutures.Cluster.Contracts;

/// <summary>One registered executor: its id, its queue, and its task counts as of its last registration
/// (null from an executor that registered without them).</summary>
[GenerateSerializer, Immutable, Alias("CsFutures.Cluster.ExecutorEntry")]
public sealed record ExecutorEntry(
    [property: Id(0)] Guid ExecutorId,
    [property: Id(1)] ITaskSource Source,
    [property: Id(2)] ExecutorCounts? Stats = null);
