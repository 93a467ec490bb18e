namespace CsFutures;

/// <summary>
/// One unit of work queued on an executor together with its future: CPython's
/// <c>concurrent.futures.thread._WorkItem</c>. <see cref="Run"/> marks the future running (or
/// notifies its cancellation), executes, and completes the future; it never throws.
/// </summary>
/// <remarks>Executors build these from delegates; bridges (such as the Python one) derive their own
/// to control how the work is executed.</remarks>
public abstract class WorkItem
{
    /// <summary>The future that this work completes.</summary>
    public abstract Future Future { get; }

    /// <summary>Executes the work unless its future was cancelled: CPython's <c>_WorkItem.run()</c>.</summary>
    public abstract void Run();

    /// <summary>Telemetry of this task (queue time, the submitter's span), kept by its executor.</summary>
    internal TaskTrace Trace;

    /// <summary>Fails the future of work that will never run (a broken pool), unless it is done.</summary>
    internal void Fail(Exception exception) => FailFuture(Future, exception);

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

/// <summary>A delegate and its future (the work item behind <see cref="Executor.Submit{T}(Func{T})"/>).</summary>
internal sealed class DelegateWorkItem<T> : WorkItem
{
    private readonly Future<T> _future;
    private Func<T>? _fn;

    public DelegateWorkItem(Future<T> future, Func<T> fn)
    {
        _future = future;
        _fn = fn;
    }

    public override Future Future => _future;

    public override void Run()
    {
        var fn = _fn!;
        _fn = null; // drop the closure as soon as it ran (CPython: GH-60488)
        if (!_future.SetRunningOrNotifyCancel())
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
            _future.SetException(ex);
            return;
        }
        _future.SetResult(result);
    }
}

/// <summary>A function, its argument and its future: one item of <see cref="Executor.Map{TSource, TResult}"/>,
/// without the closure and delegate that <c>Submit(() =&gt; fn(item))</c> would allocate.</summary>
internal sealed class MapWorkItem<TSource, TResult> : WorkItem
{
    private readonly Future<TResult> _future;
    private Func<TSource, TResult>? _fn;
    private TSource _arg;

    public MapWorkItem(Future<TResult> future, Func<TSource, TResult> fn, TSource arg)
    {
        _future = future;
        _fn = fn;
        _arg = arg;
    }

    public override Future Future => _future;

    /// <summary>The future, typed.</summary>
    public Future<TResult> Typed => _future;

    public override void Run()
    {
        var fn = _fn!;
        var arg = _arg;
        _fn = null; // drop the function and the argument as soon as it ran (CPython: GH-60488)
        _arg = default!;
        if (!_future.SetRunningOrNotifyCancel())
        {
            return;
        }
        TResult result;
        try
        {
            result = fn(arg);
        }
        catch (Exception ex)
        {
            _future.SetException(ex);
            return;
        }
        _future.SetResult(result);
    }
}
