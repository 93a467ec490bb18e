using CsFutures.Processes;
namespace CsFutures.Cluster.Client;

/// <summary>One submitted task in its executor's <see cref="TaskQueue"/>. Guarded by the queue's lock.</summary>
internal sealed class ClusterTask
{
    internal ClusterTask(long id, ProcessWorkItem item, byte[] payload, int allowedFailures)
    {
        Id = id;
        Item = item;
        Payload = payload;
        AllowedFailures = allowedFailures;
    }

    /// <summary>Lost attempts this task may survive (the executor's, or the submit's own).</summary>
    internal int AllowedFailures { get; }

    internal long Id { get; }

    /// <summary>What the task is: its future, its time limit, and what a reply means.</summary>
    internal ProcessWorkItem Item { get; }

    /// <summary>The payload, kept for re-runs until the task is done.</summary>
    internal byte[] Payload { get; }

    internal Future Future => Item.Future;

    /// <summary>The future was set running (at its first assignment).</summary>
    internal bool Running { get; set; }

    /// <summary>The node holding the task now; null while queued.</summary>
    internal string? Node { get; set; }

    /// <summary>When the node took it.</summary>
    internal DateTime AssignedAt { get; set; }

    /// <summary>That node reported the task handed to a worker.</summary>
    internal bool Started { get; set; }

    /// <summary>The last node that held it.</summary>
    internal string? LastNode { get; set; }

    /// <summary>Attempts lost after a start report (worker or node died).</summary>
    internal int Attempts { get; set; }

    /// <summary>The W3C id of the activity current at submit (the parent of the task's span on its
    /// node), or null.</summary>
    internal string? TraceParent { get; init; }

    /// <summary>Times lost with a node before any start report.</summary>
    internal int LostBeforeStart { get; set; }
}
