namespace CsFutures.Threads;

/// <summary>What one worker of a <see cref="WorkerPool"/> is running, so that a submit can count a
/// worker that is finishing its item as idle (<see cref="WorkerPool"/>'s
/// <c>ClaimFinishingWorkerLocked</c>).</summary>
internal sealed class WorkerSlot
{
    /// <summary>The item the worker runs, or <c>null</c> between items.</summary>
    public volatile IWorkItem? Current;

    /// <summary>True once a submit counted this worker as about to be idle.</summary>
    public volatile bool Claimed;
}
