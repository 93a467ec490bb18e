
namespace CsFutures.Cluster.Contracts;

/// <summary>
/// Where nodes find the executors to pull from: one grain (key 0). Executors re-register every
/// second; an entry not refreshed for <see cref="Grains.ExecutorDirectoryGrain.Expiry"/> is forgotten, so a
/// re-activated directory refills within a second and a vanished executor leaves it.
/// </summary>
[Alias("CsFutures.Cluster.IExecutorDirectory")]
public interface IExecutorDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>Adds or refreshes an executor's entry.</summary>
    [Alias("Register")]
    Task Register(Guid executorId, ITaskSource source);

    /// <summary>Adds or refreshes an executor's entry with its task counts (what the dashboard shows).</summary>
    [Alias("RegisterWithStats")]
    Task Register(Guid executorId, ITaskSource source, ExecutorCounts stats);

    /// <summary>Removes an executor's entry (at its shutdown).</summary>
    [Alias("Unregister")]
    Task Unregister(Guid executorId);

    /// <summary>The executors registered now.</summary>
    [Alias("List")]
    Task<ExecutorEntry[]> List();
}
