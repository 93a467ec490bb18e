namespace CsFutures.Cluster.Contracts;

/// <summary>How a task ended on a node.</summary>
public enum TaskOutcome
{
    /// <summary>The worker replied with a result: <see cref="TaskResult.Data"/> holds it.</summary>
    Ok = 0,

    /// <summary>The worker replied with an error: <see cref="TaskResult.Data"/> holds its description
    /// (the future fails with <see cref="WorkerTaskException"/>).</summary>
    Error = 1,

    /// <summary>The worker process died while running the task: one failed attempt.</summary>
    WorkerKilled = 2,

    /// <summary>The node could not run or return the task (e.g. a result over the node's size limit):
    /// <see cref="TaskResult.Message"/> says why; the future fails, no retry.</summary>
    Failed = 3,

    /// <summary>The task ran longer than its time limit; its worker was killed and replaced. The future
    /// fails with <see cref="TimeoutException"/>, no retry (Python: <c>TimeoutError</c>).</summary>
    TimedOut = 4,
}
