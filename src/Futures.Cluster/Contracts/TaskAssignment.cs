namespace CsFutures.Cluster.Contracts;

/// <summary>One task handed to a node by <see cref="ITaskSource.Take"/>: its id within the
/// submitting executor, its payload, how long it may run in its worker (null: no limit), and the W3C
/// <c>traceparent</c> of the activity that submitted it (null when none was current), the parent of
/// the node's <see cref="ClusterTelemetry.TaskActivityName"/> span.</summary>
[GenerateSerializer, Immutable, Alias("CsFutures.Cluster.TaskAssignment")]
public sealed record TaskAssignment(
    [property: Id(0)] long Id,
    [property: Id(1)] byte[] Payload,
    [property: Id(2)] TimeSpan? Timeout,
    [property: Id(3)] string? TraceParent = null);
