namespace CsFutures.Cluster;

/// <summary>
/// A task was running on a node or worker process that died, <c>allowedFailures + 1</c> times: Dask's
/// <c>distributed.KilledWorker</c> (Python: <c>cs_futures.cluster.KilledWorker</c>, when it exists).
/// </summary>
public sealed class KilledWorkerException : FuturesException
{
    /// <summary>Creates the error for the task <paramref name="taskId"/>.</summary>
    public KilledWorkerException(long taskId, string lastNode, int attempts, int lostBeforeStart)
        : base($"task {taskId} was lost with its worker {attempts} time(s) after it started and " +
               $"{lostBeforeStart} time(s) before it started; the last node was {lastNode}")
    {
        TaskId = taskId;
        LastNode = lastNode;
        Attempts = attempts;
        LostBeforeStart = lostBeforeStart;
    }

    /// <summary>The task's id within its executor (the order of <see cref="ClusterExecutor.Submit"/>
    /// calls, from 0).</summary>
    public long TaskId { get; }

    /// <summary>The node that held the task last (an Orleans silo address).</summary>
    public string LastNode { get; }

    /// <summary>Attempts that were handed to a worker process and lost with it or its node.</summary>
    public int Attempts { get; }

    /// <summary>Times the task was lost with a node before that node reported it started.</summary>
    public int LostBeforeStart { get; }
}
