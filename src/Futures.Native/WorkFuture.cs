using CsFutures.Telemetry;
namespace CsFutures;

/// <summary>
/// A future that is its own work item (see <see cref="IWorkItem"/>): what
/// <see cref="Executor.Submit{T}(Func{T})"/> and <see cref="Executor.Map{TSource, TResult}"/> return and
/// queue, one object per task where CPython has a <c>Future</c> and a <c>_WorkItem</c>. Derived classes
/// hold the work (a delegate, its argument), drop it as they take it, and run it through <c>RunCall</c>.
/// </summary>
internal abstract class WorkFuture<T> : Future<T>, IWorkItem
{
    private TaskTrace _trace;

    /// <summary>This future.</summary>
    public Future Future => this;

    ref TaskTrace IWorkItem.Trace => ref _trace;

    /// <inheritdoc/>
    public abstract void Run();

    /// <summary>Drops the work without running it.</summary>
    void IWorkItem.Discard() => DropWork();

    /// <summary>Clears the fields that hold the work (the delegate and its argument).</summary>
    private protected abstract void DropWork();

    /// <summary>CPython's <c>_WorkItem.run()</c> for a delegate already taken out of this future's fields:
    /// marks the future running or notifies its cancellation, calls <paramref name="fn"/>, and sets its
    /// result or its exception.</summary>
    private protected void RunCall(Func<T> fn)
    {
        if (!SetRunningOrNotifyCancel())
        {
            return;
        }
        T result;
        try
        {
            result = fn();
        }
        catch (Exception ex)
        {
            SetException(ex);
            return;
        }
        SetResult(result);
    }

    /// <summary>The same for a function and its argument (<see cref="Executor.Map{TSource, TResult}"/>'s items).</summary>
    private protected void RunCall<TArg>(Func<TArg, T> fn, TArg arg)
    {
        if (!SetRunningOrNotifyCancel())
        {
            return;
        }
        T result;
        try
        {
            result = fn(arg);
        }
        catch (Exception ex)
        {
            SetException(ex);
            return;
        }
        SetResult(result);
    }

    /// <summary>Python's repr names it <c>Future</c>, as CPython's submit returns a plain future.</summary>
    private protected override string ReprName => "Future";
}
