using CsFutures.Processes;
namespace CsFutures.Cluster.Node;

/// <summary>What a node's services share: its id (its silo address) and its process pool.</summary>
internal sealed class NodeState
{
    internal NodeState(ProcessPoolExecutor pool, int maxResult)
    {
        Pool = pool;
        MaxResult = maxResult;
    }

    internal ProcessPoolExecutor Pool { get; }

    internal int MaxResult { get; }

    /// <summary>The silo address as <c>SiloAddress.ToParsableString()</c>; set when the silo started.</summary>
    internal string NodeId { get; set; } = "";
}
