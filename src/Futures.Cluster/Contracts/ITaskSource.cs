using Orleans.Concurrency;

namespace CsFutures.Cluster.Contracts;

/// <summary>
/// The queue of one <see cref="ClusterExecutor"/>, as nodes see it: an Orleans observer the executor
/// registers in the <see cref="IExecutorDirectoryGrain"/>. Nodes pull work with <see cref="Take"/>, report
/// a task handed to a worker with <see cref="Starting"/> and return results with
/// <see cref="Completed"/>. No call is held open while a task runs.
/// </summary>
/// <remarks>Every method is <c>[AlwaysInterleave]</c>: an observer otherwise runs one call at a time,
/// and a held <see cref="Take"/> would delay every other node's calls.</remarks>
[Alias("CsFutures.Cluster.ITaskSource")]
public interface ITaskSource : IGrainObserver
{
    /// <summary>Assigns up to <paramref name="max"/> queued tasks to <paramref name="nodeId"/>. Answers at
    /// once when work is queued; otherwise holds the call for about a second and returns an empty
    /// array. Returns null once the executor is closed (shutting down or broken): the node stops pulling
    /// from it.</summary>
    [AlwaysInterleave, Alias("Take")]
    Task<TaskAssignment[]?> Take(string nodeId, int max);

    /// <summary>The node is about to hand these tasks to worker processes: from now on, losing the node
    /// counts an attempt against them. The node waits for the answer before it runs them, so that a task
    /// that kills its node at once is still counted (a one-way report could die with the node).</summary>
    [AlwaysInterleave, Alias("Starting")]
    Task Starting(string nodeId, long[] ids);

    /// <summary>Results of tasks assigned to <paramref name="nodeId"/>. A result for a task that the node
    /// no longer holds (declared dead meanwhile, or sent twice) is dropped and counted. Acknowledged: the
    /// node sends a batch again until it is answered (a one-way batch lost through a dying gateway left
    /// its tasks in flight for ever; results are idempotent, so a second copy is harmless).</summary>
    [AlwaysInterleave, Alias("CompletedAcknowledged")]
    Task Completed(string nodeId, TaskResult[] results);
}
