namespace CsFutures;

/// <summary>
/// A future whose result is a <typeparamref name="T"/>: Python's <c>concurrent.futures.Future</c>
/// with a typed <see cref="Result"/> and <see cref="SetResult"/>.
/// </summary>
/// <typeparam name="T">The type of the result.</typeparam>
public class Future<T> : Future
{
    private T? _result;

    /// <summary>Creates a pending future, as Python's <c>Future()</c>; executors create them in
    /// <see cref="Executor.Submit{T}(Func{T})"/>, and tests or adapters complete them by hand.</summary>
    public Future()
    {
    }

    /// <summary>
    /// Returns the result of the work: Python's <c>Future.result(timeout=None)</c>.
    /// </summary>
    /// <param name="timeout">How long to wait; <c>null</c> waits without limit.</param>
    /// <param name="cancellationToken">Stops the wait (not the work) with <see cref="OperationCanceledException"/>.</param>
    /// <exception cref="CancelledException">The future was cancelled.</exception>
    /// <exception cref="TimeoutException">The future did not finish before the timeout.</exception>
    /// <remarks>If the work raised, that very exception object is rethrown, as CPython re-raises it.</remarks>
    public T Result(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        if (FinishedWithResult)
        {
            return _result!; // finished: no wait, and the result is written before the state
        }
        WaitDone(timeout, cancellationToken);
        ThrowIfFailed();
        return _result!;
    }

    /// <summary>
    /// Completes the future with a result: Python's <c>Future.set_result(result)</c>.
    /// For executors and tests.
    /// </summary>
    /// <exception cref="InvalidStateException">The future is already done.</exception>
    public void SetResult(T result)
    {
        ClaimCompletion();
        _result = result;
        PublishFinished();
    }

    /// <summary>Python's <c>add_done_callback(fn)</c> with the typed future as argument.</summary>
    public void AddDoneCallback(Action<Future<T>> fn)
    {
        ArgumentNullException.ThrowIfNull(fn);
        base.AddDoneCallback((Future f) => fn((Future<T>)f));
    }

    /// <summary>The .NET view of the future: a task that completes with the result, faults with the
    /// work's exception, or is cancelled when the future is.</summary>
    public new Task<T> AsTask()
    {
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        base.AddDoneCallback((Future f) =>
        {
            var self = (Future<T>)f;
            if (self.State != FutureState.Finished)
            {
                tcs.TrySetCanceled();
            }
            else if (self.FinishedException is { } ex)
            {
                tcs.TrySetException(ex);
            }
            else
            {
                tcs.TrySetResult(self._result!);
            }
        });
        return tcs.Task;
    }

    /// <summary>Makes the future awaitable: <c>await future</c> gives what <see cref="Result"/> gives
    /// (the result, or the same exception, or <see cref="CancelledException"/>) without blocking.</summary>
    public new FutureAwaiter<T> GetAwaiter() => new(this);

    private protected override Task AsTaskCore() => AsTask();

    /// <summary>Sets the result without the usual checks (Python code assigning <c>_result</c>).</summary>
    internal void ForceResult(T result)
    {
        _result = result;
        Interlocked.MemoryBarrier(); // as the lock that Python's assignment holds: seen by the next reader
    }

    private protected override object? BoxedResult() => _result;

    private protected override string ResultTypeName() => _result?.GetType().Name ?? "null";
}
