using CsFutures.Telemetry;
namespace CsFutures;

/// <summary>
/// A work item that holds its future apart, for bridges that control how their work runs (such as the
/// Python bridge's call of a Python function): CPython's <c>concurrent.futures.thread._WorkItem</c>.
/// <see cref="Run"/> marks the future running (or notifies its cancellation), executes, and completes
/// the future; it never throws.
/// </summary>
/// <remarks>The futures of <see cref="Executor.Submit{T}(Func{T})"/> and <see cref="Executor.Map{TSource, TResult}"/>
/// are their own work items (see <see cref="IWorkItem"/>); this class is for the items that bridges
/// submit through <see cref="Executor.SubmitWorkItem"/>.</remarks>
public abstract class WorkItem : IWorkItem
{
    /// <summary>Telemetry of this task (queue time, the submitter's span), kept by its executor.</summary>
    private TaskTrace _trace;

    /// <summary>The future that this work completes.</summary>
    public abstract Future Future { get; }

    /// <summary>Executes the work unless its future was cancelled: CPython's <c>_WorkItem.run()</c>.</summary>
    public abstract void Run();

    ref TaskTrace IWorkItem.Trace => ref _trace;

    /// <summary>Fails a future whose work will never complete it, unless it is done already; a
    /// cancelled one is marked notified instead.</summary>
    internal static void FailFuture(Future future, Exception exception)
    {
        if (future.State is FutureState.Pending or FutureState.Running)
        {
            try
            {
                future.SetException(exception);
            }
            catch (InvalidStateException)
            {
                // Cancelled or completed meanwhile: its outcome stands.
            }
        }
        else if (future.State == FutureState.Cancelled)
        {
            future.SetRunningOrNotifyCancel();
        }
    }
}
