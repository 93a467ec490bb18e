using CsFutures.Telemetry;
namespace CsFutures;

/// <summary>
/// One unit of work in a <see cref="ThreadPoolExecutor"/>'s queue: CPython's
/// <c>concurrent.futures.thread._WorkItem</c>. <see cref="Run"/> marks <see cref="Future"/> running (or
/// notifies its cancellation), executes the work, and completes the future.
/// </summary>
/// <remarks>
/// As <see cref="System.Threading.Tasks.Task"/> is its own work item for the .NET thread pool, the
/// futures that <see cref="Executor.Submit{T}(Func{T})"/> and <see cref="Executor.Map{TSource, TResult}"/>
/// return are their own work items: one object per task, whose <see cref="Future"/> is itself. A bridge
/// that controls how its work runs (the Python bridge's call of a Python function) derives from
/// <see cref="WorkItem"/>, which holds its future apart. Those are the only implementations: the interface's
/// telemetry members are internal, so other assemblies derive from <see cref="WorkItem"/>.
/// <see cref="ThreadPoolExecutorOptions.ItemStarting"/> receives either kind.
/// </remarks>
public interface IWorkItem
{
    /// <summary>The future that this work completes (for the futures of <c>Submit</c> and <c>Map</c>,
    /// the item itself).</summary>
    Future Future { get; }

    /// <summary>Executes the work unless its future was cancelled, and completes the future: CPython's
    /// <c>_WorkItem.run()</c>. The work's exception becomes the future's; the work (its delegate and
    /// arguments) is dropped once it ran, as CPython drops the work item (GH-60488).</summary>
    void Run();

    /// <summary>Telemetry of this task (queue time, the submitter's span), kept by its executor.</summary>
    internal ref TaskTrace Trace { get; }

    /// <summary>Drops the work of an item that will never run (its pool cancelled or failed it while it
    /// was queued), so that a future still referenced does not keep the delegate alive.</summary>
    internal void Discard()
    {
    }
}
