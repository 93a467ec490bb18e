using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;

namespace CsFutures;

/// <summary>
/// The result of an asynchronous computation: Python's <c>concurrent.futures.Future</c>.
/// This non-generic base holds the state machine, the waiters and the done-callbacks, so that futures
/// of different result types can be waited on together; <see cref="Future{T}"/> adds the typed result.
/// </summary>
/// <remarks>
/// States and transitions are CPython's: <see cref="FutureState.Pending"/> to
/// <see cref="FutureState.Running"/> (<see cref="SetRunningOrNotifyCancel"/>) to
/// <see cref="FutureState.Finished"/> (<c>SetResult</c>, <see cref="SetException"/>), or
/// <see cref="FutureState.Pending"/> to <see cref="FutureState.Cancelled"/> (<see cref="Cancel"/>) to
/// <see cref="FutureState.CancelledAndNotified"/> (<see cref="SetRunningOrNotifyCancel"/>).
/// All members are thread-safe.
/// </remarks>
public abstract class Future
{
    private protected readonly object SyncRoot = new();
    private volatile FutureState _state;
    private Exception? _exception;
    private List<Action<Future>>? _callbacks;
    private WaiterList? _waiters;
    private int _blockedWaiters;

    [ThreadStatic]
    private static int t_created; // futures created on this thread, for IdentityHash

    private protected Future()
    {
        // Consecutive on each thread, salted by the thread: spreads evenly in hash tables, without the
        // object header's hash code (a runtime call) nor a shared counter.
        IdentityHash = ++t_created + Environment.CurrentManagedThreadId * unchecked((int)0x9E3779B1);
    }

    /// <summary>A hash code of this future's identity for the engine's own tables (as_completed's
    /// <see cref="CompletionCursor{TFuture}"/>); not unique.</summary>
    internal int IdentityHash { get; }

    /// <summary>The current state: Python's <c>Future._state</c>.</summary>
    public FutureState State => _state;

    /// <summary>The logger of exceptions raised by done-callbacks (CPython logs them to
    /// <c>concurrent.futures</c>). Defaults to <see cref="FuturesLogging.Logger"/>.</summary>
    public ILogger? Logger { get; set; }

    /// <summary>
    /// Attempts to cancel the future: Python's <c>Future.cancel()</c>.
    /// </summary>
    /// <returns><c>false</c> if the future is running or finished (it cannot be cancelled);
    /// <c>true</c> if it is now cancelled, including when it already was.</returns>
    public bool Cancel()
    {
        // A settled answer needs no lock: these states only move to states with the same answer.
        if (SettledCancelAnswer(_state) is bool settled)
        {
            return settled;
        }
        lock (SyncRoot)
        {
            if (SettledCancelAnswer(_state) is bool answer)
            {
                return answer;
            }
            _state = FutureState.Cancelled;
            PulseBlockedLocked();
        }
        InvokeCallbacks();
        return true;
    }

    /// <summary>What <see cref="Cancel"/> returns in a state that it does not change; <c>null</c> for
    /// pending.</summary>
    private static bool? SettledCancelAnswer(FutureState state) => state switch
    {
        FutureState.Running or FutureState.Finished => false,
        FutureState.Cancelled or FutureState.CancelledAndNotified => true,
        _ => null,
    };

    /// <summary>Python's <c>Future.cancelled()</c>: <c>true</c> if the future was cancelled.</summary>
    public bool Cancelled() => State is FutureState.Cancelled or FutureState.CancelledAndNotified;

    /// <summary>Python's <c>Future.running()</c>: <c>true</c> if the work is executing now.</summary>
    public bool Running() => State == FutureState.Running;

    /// <summary>Python's <c>Future.done()</c>: <c>true</c> if the future was cancelled or finished.</summary>
    public bool Done() => State is FutureState.Cancelled or FutureState.CancelledAndNotified or FutureState.Finished;

    /// <summary>
    /// Returns the exception raised by the work: Python's <c>Future.exception(timeout=None)</c>.
    /// </summary>
    /// <param name="timeout">How long to wait; <c>null</c> waits without limit.</param>
    /// <param name="cancellationToken">Stops the wait (not the work) with <see cref="OperationCanceledException"/>.</param>
    /// <returns>The exception, or <c>null</c> if the work completed without raising.</returns>
    /// <exception cref="CancelledException">The future was cancelled.</exception>
    /// <exception cref="TimeoutException">The future did not finish before the timeout.</exception>
    public Exception? Exception(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        lock (SyncRoot)
        {
            WaitDoneLocked(timeout, cancellationToken);
            return _exception;
        }
    }

    /// <summary>
    /// Returns the result as an object, for code that holds futures of several result types:
    /// Python's <c>Future.result(timeout=None)</c>.
    /// </summary>
    /// <exception cref="CancelledException">The future was cancelled.</exception>
    /// <exception cref="TimeoutException">The future did not finish before the timeout.</exception>
    /// <remarks>If the work raised, that very exception is rethrown.</remarks>
    public object? ResultObject(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        lock (SyncRoot)
        {
            WaitDoneLocked(timeout, cancellationToken);
            ThrowIfFailedLocked();
            return BoxedResultLocked();
        }
    }

    /// <summary>
    /// Attaches a callable that runs with this future when it is cancelled or finishes:
    /// Python's <c>Future.add_done_callback(fn)</c>. Callbacks run in the order added, in the thread
    /// that completes the future; if the future is already done, <paramref name="fn"/> runs at once in
    /// the caller. An exception raised by a callback is logged and ignored.
    /// </summary>
    public void AddDoneCallback(Action<Future> fn)
    {
        ArgumentNullException.ThrowIfNull(fn);
        lock (SyncRoot)
        {
            if (!IsDone(_state))
            {
                (_callbacks ??= new List<Action<Future>>(1)).Add(fn);
                return;
            }
        }
        InvokeCallback(fn);
    }

    /// <summary>
    /// Marks the future as running or tells waiters that it was cancelled:
    /// Python's <c>Future.set_running_or_notify_cancel()</c>. For executors and tests.
    /// </summary>
    /// <returns><c>false</c> if the future was cancelled (it is now notified); <c>true</c> if it was
    /// pending and is now running.</returns>
    /// <exception cref="InvalidOperationException">The future was not pending nor cancelled
    /// (CPython: <c>RuntimeError('Future in unexpected state')</c>).</exception>
    public bool SetRunningOrNotifyCancel()
    {
        lock (SyncRoot)
        {
            switch (_state)
            {
                case FutureState.Cancelled:
                    _state = FutureState.CancelledAndNotified;
                    if (_waiters is { } waiters)
                    {
                        for (int i = 0; i < waiters.Count; i++)
                        {
                            var (waiter, token) = waiters[i];
                            waiter.AddCancelled(this, token);
                        }
                        _waiters = null; // told: a done future never reports again (see RemoveWaiter)
                    }
                    return false;
                case FutureState.Pending:
                    _state = FutureState.Running;
                    return true;
                default:
                    (Logger ?? FuturesLogging.Logger).LogCritical(
                        "Future {Id} in unexpected state: {State}", RuntimeHelpers.GetHashCode(this), StateName(_state));
                    throw new InvalidOperationException("Future in unexpected state");
            }
        }
    }

    /// <summary>
    /// Completes the future with an exception: Python's <c>Future.set_exception(exception)</c>.
    /// For executors and tests.
    /// </summary>
    /// <exception cref="InvalidStateException">The future is already done.</exception>
    public void SetException(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        lock (SyncRoot)
        {
            ThrowIfDoneLocked();
            _exception = exception;
            FinishLocked(failed: true);
        }
        InvokeCallbacks();
    }

    /// <summary>Waits, without blocking a thread, until the future is done: the .NET view of the
    /// future for <c>await</c> and task combinators. A cancelled future gives a cancelled task; an
    /// exception gives a faulted task holding that exception.</summary>
    public Task AsTask() => AsTaskCore();

    /// <summary>Makes the future awaitable: <c>await future</c> completes as <see cref="Wait"/> then
    /// rethrows as <see cref="ResultObject"/> does, without blocking a thread.</summary>
    public FutureAwaiter GetAwaiter() => new(this);

    /// <summary>Blocks until the future is done or the timeout passes, without throwing for a
    /// failed or cancelled future. Returns <see cref="Done"/>.</summary>
    public bool Wait(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        lock (SyncRoot)
        {
            if (IsDone(_state))
            {
                return true;
            }
            BlockUntilDoneLocked(Deadline.After(timeout), cancellationToken);
            return IsDone(_state);
        }
    }

    /// <summary>Python's <c>repr(future)</c>: <c>&lt;Future at 0x... state=finished returned Int32&gt;</c>.</summary>
    public override string ToString()
    {
        lock (SyncRoot)
        {
            string address = $"0x{RuntimeHelpers.GetHashCode(this):x}";
            string state = ReprStateName(_state);
            if (_state != FutureState.Finished)
            {
                return $"<{GetType().Name.Split('`')[0]} at {address} state={state}>";
            }
            return _exception is not null
                ? $"<{GetType().Name.Split('`')[0]} at {address} state={state} raised {_exception.GetType().Name}>"
                : $"<{GetType().Name.Split('`')[0]} at {address} state={state} returned {ResultTypeNameLocked()}>";
        }
    }

    /// <summary>The name of a state as CPython's constants spell it (<c>"FINISHED"</c>).</summary>
    public static string StateName(FutureState state) => state switch
    {
        FutureState.Pending => "PENDING",
        FutureState.Running => "RUNNING",
        FutureState.Cancelled => "CANCELLED",
        FutureState.CancelledAndNotified => "CANCELLED_AND_NOTIFIED",
        FutureState.Finished => "FINISHED",
        _ => state.ToString(),
    };

    private static string ReprStateName(FutureState state) => state switch
    {
        FutureState.Pending => "pending",
        FutureState.Running => "running",
        FutureState.Finished => "finished",
        _ => "cancelled",
    };

    private protected abstract object? BoxedResultLocked();

    private protected abstract string ResultTypeNameLocked();

    private protected Exception? ExceptionLocked => _exception;

    /// <summary>True when the future finished with a result (not an exception): read without the
    /// lock, ordered by the volatile state (the outcome is written before the state becomes
    /// FINISHED), so that the caller may read the result without the lock.</summary>
    private protected bool FinishedWithResult =>
        _state == FutureState.Finished && Volatile.Read(ref _exception) is null;

    /// <summary>The state as seen under the lock, for the generic subclass.</summary>
    private protected FutureState StateLocked => _state;

    internal static bool IsDone(FutureState state) =>
        state is FutureState.Cancelled or FutureState.CancelledAndNotified or FutureState.Finished;

    /// <summary>CPython's check at the top of <c>set_result</c> and <c>set_exception</c>.</summary>
    private protected void ThrowIfDoneLocked()
    {
        if (IsDone(_state))
        {
            throw new InvalidStateException($"{StateName(_state)}: {ToString()}");
        }
    }

    /// <summary>Moves to FINISHED, tells waiters and blocked threads. Call under the lock, then
    /// <see cref="InvokeCallbacks"/> outside it.</summary>
    private protected void FinishLocked(bool failed)
    {
        _state = FutureState.Finished;
        if (_waiters is { } waiters)
        {
            for (int i = 0; i < waiters.Count; i++)
            {
                var (waiter, token) = waiters[i];
                if (failed)
                {
                    waiter.AddException(this, token);
                }
                else
                {
                    waiter.AddResult(this, token);
                }
            }
            _waiters = null; // told: a done future never reports again (see RemoveWaiter)
        }
        PulseBlockedLocked();
    }

    /// <summary>Waits for done, then throws <see cref="CancelledException"/> or
    /// <see cref="TimeoutException"/> as CPython's <c>result()</c> and <c>exception()</c> do.</summary>
    private protected void WaitDoneLocked(TimeSpan? timeout, CancellationToken cancellationToken)
    {
        if (!IsDone(_state))
        {
            BlockUntilDoneLocked(Deadline.After(timeout), cancellationToken);
        }
        switch (_state)
        {
            case FutureState.Cancelled:
            case FutureState.CancelledAndNotified:
                throw new CancelledException();
            case FutureState.Finished:
                return;
            default:
                throw new TimeoutException();
        }
    }

    private protected void ThrowIfFailedLocked()
    {
        if (_exception is { } exception)
        {
            ExceptionDispatchInfo.Throw(exception);
        }
    }

    private void BlockUntilDoneLocked(Deadline deadline, CancellationToken cancellationToken)
    {
        CancellationTokenRegistration registration = default;
        if (cancellationToken.CanBeCanceled)
        {
            cancellationToken.ThrowIfCancellationRequested();
            registration = cancellationToken.UnsafeRegister(static s =>
            {
                var self = (Future)s!;
                lock (self.SyncRoot)
                {
                    Monitor.PulseAll(self.SyncRoot);
                }
            }, this);
        }
        _blockedWaiters++;
        try
        {
            while (!IsDone(_state))
            {
                cancellationToken.ThrowIfCancellationRequested();
                int ms = deadline.RemainingMilliseconds;
                if (ms == 0)
                {
                    return;
                }
                Monitor.Wait(SyncRoot, ms);
            }
        }
        finally
        {
            _blockedWaiters--;
            // Unregister, not Dispose: Dispose waits for a callback that is running, and the callback
            // takes SyncRoot, which this thread holds: a token cancelled as the wait ends deadlocked.
            // A callback that runs late only pulses the monitor, which is harmless.
            registration.Unregister();
        }
    }

    private void PulseBlockedLocked()
    {
        if (_blockedWaiters > 0)
        {
            Monitor.PulseAll(SyncRoot);
        }
    }

    /// <summary>Runs the done-callbacks once the future is done (CPython's <c>_invoke_callbacks</c>).</summary>
    private protected void InvokeCallbacks()
    {
        List<Action<Future>>? callbacks;
        if (Volatile.Read(ref _callbacks) is null)
        {
            return; // done, so no callback can be added any more
        }
        lock (SyncRoot)
        {
            callbacks = _callbacks;
            _callbacks = null;
        }
        if (callbacks is null)
        {
            return;
        }
        foreach (var callback in callbacks)
        {
            InvokeCallback(callback);
        }
    }

    private void InvokeCallback(Action<Future> callback)
    {
        try
        {
            callback(this);
        }
        catch (Exception ex)
        {
            (Logger ?? FuturesLogging.Logger).LogError(ex, "exception calling callback for {Future}", this);
        }
    }

    /// <summary>Installs a waiter unless the future is already done (for wait / as_completed):
    /// returns <c>false</c> when done, without installing. The future reports to the waiter once,
    /// with <paramref name="token"/>.</summary>
    internal bool TryInstallWaiter(Waiter waiter, int token = 0)
    {
        if (_state is FutureState.Finished or FutureState.CancelledAndNotified)
        {
            return false; // final states: no lock needed to know it
        }
        lock (SyncRoot)
        {
            if (_state is FutureState.Finished or FutureState.CancelledAndNotified)
            {
                return false;
            }
            if (_waiters is { } waiters)
            {
                waiters.Add(waiter, token);
            }
            else
            {
                _waiters = new WaiterList(waiter, token);
            }
            return true;
        }
    }

    /// <remarks>The futures drop their waiters once they told them that they are done, so that
    /// removing a waiter from a done future needs no lock: the caller installed it, so a list that is
    /// gone was dropped after it was told.</remarks>
    internal void RemoveWaiter(Waiter waiter)
    {
        if (Volatile.Read(ref _waiters) is null)
        {
            return;
        }
        lock (SyncRoot)
        {
            _waiters?.Remove(waiter);
        }
    }

    /// <summary>True when finished by raising, for FIRST_EXCEPTION.</summary>
    internal bool FinishedWithException
    {
        get
        {
            // No lock: the exception is written before the state becomes FINISHED (a volatile write),
            // so a reader that sees FINISHED sees the exception.
            return _state == FutureState.Finished && Volatile.Read(ref _exception) is not null;
        }
    }

    /// <summary>Sets the state and the outcome without the usual checks, as Python code may do by
    /// assigning <c>_state</c>, <c>_result</c> and <c>_exception</c>. For the Python bridge and tests
    /// that mirror CPython's; waiters and blocked threads are told by <see cref="NotifyAll"/>.</summary>
    internal void ForceState(FutureState state)
    {
        lock (SyncRoot)
        {
            _state = state;
        }
    }

    internal void ForceException(Exception? exception)
    {
        lock (SyncRoot)
        {
            _exception = exception;
        }
    }

    /// <summary>Python's <c>future._condition.notify_all()</c>: wakes threads blocked in
    /// <c>Result</c>/<c>Exception</c> so that they look at the state again.</summary>
    internal void NotifyAll()
    {
        lock (SyncRoot)
        {
            Monitor.PulseAll(SyncRoot);
        }
    }

    private protected virtual Task AsTaskCore()
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        AddDoneCallback(f =>
        {
            lock (f.SyncRoot)
            {
                if (f._state == FutureState.Finished)
                {
                    if (f._exception is { } ex)
                    {
                        tcs.TrySetException(ex);
                    }
                    else
                    {
                        tcs.TrySetResult();
                    }
                }
                else
                {
                    tcs.TrySetCanceled();
                }
            }
        });
        return tcs.Task;
    }
}
