namespace CsFutures;

/// <summary>
/// The base of executors: Python's <c>concurrent.futures.Executor</c>. Derived classes implement
/// <see cref="SubmitWorkItem"/> and <see cref="Shutdown"/>; <see cref="Map{TSource, TResult}"/> and
/// disposal are built on them.
/// </summary>
public abstract class Executor : IDisposable, IAsyncDisposable
{
    /// <summary>
    /// Schedules <paramref name="fn"/> and returns its future: Python's <c>Executor.submit(fn, /, *args, **kwargs)</c>
    /// (arguments are captured by the delegate).
    /// </summary>
    /// <exception cref="InvalidOperationException">The executor was shut down (CPython's
    /// <c>RuntimeError('cannot schedule new futures after shutdown')</c>).</exception>
    /// <exception cref="BrokenExecutorException">The executor is broken.</exception>
    public Future<T> Submit<T>(Func<T> fn)
    {
        ArgumentNullException.ThrowIfNull(fn);
        var future = new DelegateFuture<T>(fn); // the future is its own work item
        SubmitWorkItem(future);
        return future;
    }

    /// <summary>Schedules an action; its future's result is <c>null</c> (Python's <c>None</c>).</summary>
    public Future<object?> Submit(Action fn)
    {
        ArgumentNullException.ThrowIfNull(fn);
        return Submit<object?>(() =>
        {
            fn();
            return null;
        });
    }

    /// <summary>Schedules a work item, with the same checks as <see cref="Submit{T}(Func{T})"/>: Python's
    /// <c>submit</c> once the <c>_WorkItem</c> is built. <see cref="Submit{T}(Func{T})"/> passes the future
    /// itself; a bridge passes its own <see cref="WorkItem"/>.</summary>
    public abstract void SubmitWorkItem(IWorkItem item);

    /// <summary>
    /// Applies <paramref name="fn"/> to every item: Python's
    /// <c>Executor.map(fn, *iterables, timeout=None, chunksize=1, buffersize=None)</c>.
    /// </summary>
    /// <remarks>
    /// All work is submitted before this method returns (with <paramref name="buffersize"/>, only that
    /// many items; one more each time a result is taken). Results come in input order. The deadline is
    /// fixed when <c>Map</c> is called; taking a result after it throws <see cref="TimeoutException"/>.
    /// If the work for an item raised, taking its result rethrows that exception. When the iteration
    /// stops early (disposed) or fails, the futures not yet taken are cancelled.
    /// </remarks>
    /// <param name="fn">The function.</param>
    /// <param name="items">The inputs.</param>
    /// <param name="timeout">The longest wait for all results, counted from this call.</param>
    /// <param name="chunksize">Used by process pools to batch items; ignored by thread pools.</param>
    /// <param name="buffersize">The most items submitted and not yet taken (Python 3.14); <c>null</c>
    /// submits everything at once.</param>
    public IEnumerable<TResult> Map<TSource, TResult>(
        Func<TSource, TResult> fn,
        IEnumerable<TSource> items,
        TimeSpan? timeout = null,
        int chunksize = 1,
        int? buffersize = null)
    {
        ArgumentNullException.ThrowIfNull(fn);
        ArgumentNullException.ThrowIfNull(items);
        if (buffersize is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(buffersize), FuturesMessages.BuffersizeNotPositive);
        }
        var deadline = Deadline.After(timeout);
        var source = items.GetEnumerator();
        var fs = new Queue<Future<TResult>>(
            buffersize ?? (items.TryGetNonEnumeratedCount(out int count) ? count : 16));
        try
        {
            if (buffersize is null && items is ICollection<TSource> or IReadOnlyCollection<TSource>)
            {
                // A collection's enumerator runs no code of the caller's that could wait for the work
                // (a generator may): its items are submitted in batches, one lock round trip each.
                SubmitBatches(fn, source, fs);
            }
            else
            {
                while ((buffersize is null || fs.Count < buffersize) && source.MoveNext())
                {
                    fs.Enqueue(SubmitMapItem(fn, source.Current));
                }
            }
        }
        catch
        {
            source.Dispose();
            throw;
        }
        if (buffersize is null)
        {
            source.Dispose();
            return MapResults<TSource, TResult>(fs, null, default((IEnumerator<TSource>, Func<TSource, TResult>)?), deadline);
        }
        return MapResults<TSource, TResult>(fs, new WeakReference<Executor>(this), (source, fn), deadline);
    }

    /// <summary>Submits one item of <c>map</c>: a future that is its own work item and calls
    /// <paramref name="fn"/> with <paramref name="item"/> (no closure).</summary>
    private Future<TResult> SubmitMapItem<TSource, TResult>(Func<TSource, TResult> fn, TSource item)
    {
        var future = new MapFuture<TSource, TResult>(fn, item);
        SubmitWorkItem(future);
        return future;
    }

    /// <summary>The most items of one batch of <see cref="SubmitBatches"/>.</summary>
    internal const int MapBatchSize = 64;

    /// <summary>Submits every item of <paramref name="source"/> in batches of
    /// <see cref="MapBatchSize"/> through <see cref="SubmitWorkItems"/>. A batch is submitted whole or
    /// not at all; an enumeration that fails submits the items read before it, then throws, as
    /// submitting one by one would.</summary>
    private void SubmitBatches<TSource, TResult>(
        Func<TSource, TResult> fn, IEnumerator<TSource> source, Queue<Future<TResult>> fs)
    {
        var batch = new List<IWorkItem>(MapBatchSize);
        bool more = true;
        while (more)
        {
            batch.Clear();
            try
            {
                while (batch.Count < MapBatchSize && (more = source.MoveNext()))
                {
                    batch.Add(new MapFuture<TSource, TResult>(fn, source.Current));
                }
            }
            catch
            {
                SubmitAndQueue(batch, fs);
                throw;
            }
            SubmitAndQueue(batch, fs);
        }
    }

    private void SubmitAndQueue<TResult>(List<IWorkItem> batch, Queue<Future<TResult>> fs)
    {
        if (batch.Count == 0)
        {
            return;
        }
        SubmitWorkItems(batch);
        foreach (var work in batch)
        {
            fs.Enqueue((Future<TResult>)work);
        }
    }

    /// <summary>Schedules several work items in order, as that many <see cref="SubmitWorkItem"/> calls
    /// would; an executor may take them in one step (all or none). When it throws, the items not
    /// submitted are not run.</summary>
    internal virtual void SubmitWorkItems(List<IWorkItem> items)
    {
        foreach (var item in items)
        {
            SubmitWorkItem(item);
        }
    }

    /// <summary>Python's <c>map(fn, iterable1, iterable2)</c>: the items are zipped, stopping at the
    /// shorter sequence.</summary>
    public IEnumerable<TResult> Map<T1, T2, TResult>(
        Func<T1, T2, TResult> fn,
        IEnumerable<T1> items1,
        IEnumerable<T2> items2,
        TimeSpan? timeout = null,
        int chunksize = 1,
        int? buffersize = null)
    {
        ArgumentNullException.ThrowIfNull(fn);
        return Map<(T1, T2), TResult>(pair => fn(pair.Item1, pair.Item2), items1.Zip(items2), timeout, chunksize, buffersize);
    }

    private static IEnumerable<TResult> MapResults<TSource, TResult>(
        Queue<Future<TResult>> fs,
        WeakReference<Executor>? executor,
        (IEnumerator<TSource> Source, Func<TSource, TResult> Fn)? more,
        Deadline deadline)
    {
        try
        {
            while (fs.Count > 0)
            {
                if (more is { } m && executor!.TryGetTarget(out var ex) && m.Source.MoveNext())
                {
                    fs.Enqueue(ex.SubmitMapItem(m.Fn, m.Source.Current));
                }
                var f = fs.Dequeue();
                TResult result;
                try
                {
                    result = f.Result(deadline.IsNever ? null : deadline.Remaining);
                }
                finally
                {
                    f.Cancel();
                }
                yield return result;
            }
        }
        finally
        {
            foreach (var f in fs)
            {
                f.Cancel();
            }
            more?.Source.Dispose();
        }
    }

    /// <summary>
    /// Signals the executor to free its resources when the pending futures are done: Python's
    /// <c>Executor.shutdown(wait=True, *, cancel_futures=False)</c>. Calling it more than once is
    /// allowed; later submits throw.
    /// </summary>
    /// <param name="wait">Block until all submitted work ran and the workers exited.</param>
    /// <param name="cancelFutures">Cancel the work that has not started.</param>
    public abstract void Shutdown(bool wait = true, bool cancelFutures = false);

    /// <summary>
    /// Shuts down without blocking a thread and completes when the workers have exited
    /// (the <c>await</c> form of <c>shutdown(wait=True)</c>).
    /// </summary>
    public virtual Task ShutdownAsync(bool cancelFutures = false, CancellationToken cancellationToken = default)
    {
        Shutdown(wait: false, cancelFutures: cancelFutures);
        return Task.Run(() => Shutdown(wait: true), cancellationToken);
    }

    /// <summary>Python's <c>with executor:</c> exit: <c>Shutdown(wait: true)</c>.</summary>
    public void Dispose()
    {
        Shutdown(wait: true);
        GC.SuppressFinalize(this);
    }

    /// <summary><c>await using</c>: shuts down and waits for the workers without blocking a thread.</summary>
    public async ValueTask DisposeAsync()
    {
        await ShutdownAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }
}
