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
/// All members are thread-safe. The state moves by atomic compare-and-swap, so that a future that
/// nobody waits on, blocks on or adds a callback to is completed without a lock; listeners are added
/// and told under the lock of a <see cref="FutureListeners"/> that the first one creates.
/// </remarks>
public abstract class Future
{
    // The state word: a FutureState, and Completing while SetResult or SetException writes the outcome
    // (between claiming the completion and publishing FINISHED: a few stores). Readers of the state see
    // the state before the claim until FINISHED is published.
    private const int StateMask = 0x7;
    private const int Completing = 0x8;

    private int _state;
    private Exception? _exception;
    private FutureListeners? _listeners;

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
    public FutureState State => (FutureState)(Volatile.Read(ref _state) & StateMask);

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
        while (true)
        {
            int word = SettledWord();
            if (SettledCancelAnswer((FutureState)word) is bool answer)
            {
                return answer;
            }
            if (Interlocked.CompareExchange(ref _state, (int)FutureState.Cancelled, word) == word)
            {
                Announce(FutureState.Cancelled);
                return true;
            }
        }
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
    public bool Done() => IsDone(State);

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
        WaitDone(timeout, cancellationToken);
        return Volatile.Read(ref _exception);
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
        WaitDone(timeout, cancellationToken);
        ThrowIfFailed();
        return BoxedResult();
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
        if (!IsDone(State))
        {
            var listeners = Listeners();
            lock (listeners)
            {
                if (!IsDone(State))
                {
                    (listeners.Callbacks ??= new List<Action<Future>>(1)).Add(fn);
                    return;
                }
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
        while (true)
        {
            int word = SettledWord();
            switch ((FutureState)word)
            {
                case FutureState.Pending:
                    if (Interlocked.CompareExchange(ref _state, (int)FutureState.Running, word) == word)
                    {
                        return true;
                    }
                    break;
                case FutureState.Cancelled:
                    if (Interlocked.CompareExchange(ref _state, (int)FutureState.CancelledAndNotified, word) == word)
                    {
                        Announce(FutureState.CancelledAndNotified);
                        return false;
                    }
                    break;
                default:
                    (Logger ?? FuturesLogging.Logger).LogCritical(
                        "Future {Id} in unexpected state: {State}", RuntimeHelpers.GetHashCode(this), StateName((FutureState)word));
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
        ClaimCompletion();
        _exception = exception;
        PublishFinished();
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
        if (IsDone(State))
        {
            return true;
        }
        BlockUntilDone(Deadline.After(timeout), cancellationToken);
        return IsDone(State);
    }

    /// <summary>Python's <c>repr(future)</c>: <c>&lt;Future at 0x... state=finished returned Int32&gt;</c>.</summary>
    public override string ToString()
    {
        var state = (FutureState)SettledWord();
        string name = ReprName;
        string address = $"0x{RuntimeHelpers.GetHashCode(this):x}";
        string stateName = ReprStateName(state);
        if (state != FutureState.Finished)
        {
            return $"<{name} at {address} state={stateName}>";
        }
        return Volatile.Read(ref _exception) is { } exception
            ? $"<{name} at {address} state={stateName} raised {exception.GetType().Name}>"
            : $"<{name} at {address} state={stateName} returned {ResultTypeName()}>";
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

    /// <summary>The class name that <see cref="ToString"/> shows: the type's, without its arity.</summary>
    private protected virtual string ReprName => GetType().Name.Split('`')[0];

    /// <summary>The result, boxed; read once the future is finished.</summary>
    private protected abstract object? BoxedResult();

    private protected abstract string ResultTypeName();

    /// <summary>The exception of a finished future (null for a result).</summary>
    private protected Exception? FinishedException => Volatile.Read(ref _exception);

    /// <summary>True when the future finished with a result (not an exception), so that the caller
    /// may read the result: the outcome is written before FINISHED is published.</summary>
    private protected bool FinishedWithResult =>
        State == FutureState.Finished && Volatile.Read(ref _exception) is null;

    internal static bool IsDone(FutureState state) =>
        state is FutureState.Cancelled or FutureState.CancelledAndNotified or FutureState.Finished;

    /// <summary>The state word once no completion is writing its outcome. The claim lasts a few
    /// stores, so the wait spins (yielding if the completing thread was preempted).</summary>
    private int SettledWord()
    {
        int word = Volatile.Read(ref _state);
        if ((word & Completing) == 0)
        {
            return word;
        }
        var spin = new SpinWait();
        while (((word = Volatile.Read(ref _state)) & Completing) != 0)
        {
            spin.SpinOnce();
        }
        return word;
    }

    /// <summary>The first half of <c>set_result</c> and <c>set_exception</c>: CPython's check that the
    /// future is not done, and the claim that makes this caller the only one to write the outcome.
    /// Then write the outcome and call <see cref="PublishFinished"/>.</summary>
    /// <exception cref="InvalidStateException">The future is already done.</exception>
    private protected void ClaimCompletion()
    {
        while (true)
        {
            int word = SettledWord();
            if (IsDone((FutureState)word))
            {
                throw new InvalidStateException($"{StateName((FutureState)word)}: {ToString()}");
            }
            if (Interlocked.CompareExchange(ref _state, word | Completing, word) == word)
            {
                return;
            }
        }
    }

    /// <summary>The second half: FINISHED, then the waiters, blocked threads and callbacks are told.</summary>
    private protected void PublishFinished()
    {
        Interlocked.Exchange(ref _state, (int)FutureState.Finished); // a full fence: see Announce
        Announce(FutureState.Finished);
    }

    /// <summary>Tells the listeners of a transition to <paramref name="state"/> that was just made by
    /// an interlocked operation, as CPython does under the future's condition: FINISHED tells the
    /// waiters, wakes blocked threads and runs the callbacks; CANCELLED wakes and runs the callbacks;
    /// CANCELLED_AND_NOTIFIED tells the waiters.</summary>
    /// <remarks>A listener is added under the lock after the listeners object is published and the
    /// state is read again; the transition is made before the listeners object is read here. Both
    /// sides use interlocked operations (full fences) between their write and their read, so either
    /// this reads the listeners and takes their lock (and sees what was added), or the one adding
    /// sees the new state and does not add.</remarks>
    private void Announce(FutureState state)
    {
        if (Volatile.Read(ref _listeners) is not { } listeners)
        {
            return;
        }
        List<Action<Future>>? callbacks = null;
        List<(Waiter Waiter, int Token)>? outside = null; // waiters told after the lock (TellsOutsideLock)
        bool failed = _exception is not null;
        lock (listeners)
        {
            if (state != FutureState.Cancelled)
            {
                for (int i = 0; i < listeners.WaiterCount; i++)
                {
                    var (waiter, token) = listeners.WaiterAt(i);
                    if (waiter.TellsOutsideLock)
                    {
                        (outside ??= []).Add((waiter, token));
                    }
                    else
                    {
                        waiter.Tell(this, token, state, failed);
                    }
                }
                listeners.ClearWaiters(); // told: a done future never reports again (see RemoveWaiter)
            }
            if (state != FutureState.CancelledAndNotified)
            {
                if (listeners.Blocked > 0)
                {
                    Monitor.PulseAll(listeners);
                }
                callbacks = listeners.Callbacks;
                listeners.Callbacks = null;
            }
        }
        if (outside is not null)
        {
            foreach (var (waiter, token) in outside)
            {
                waiter.Tell(this, token, state, failed);
            }
        }
        if (callbacks is not null)
        {
            foreach (var callback in callbacks)
            {
                InvokeCallback(callback);
            }
        }
    }

    /// <summary>The listeners object, created on first use.</summary>
    private FutureListeners Listeners()
    {
        return Volatile.Read(ref _listeners)
            ?? Interlocked.CompareExchange(ref _listeners, new FutureListeners(), null)
            ?? _listeners!;
    }

    /// <summary>Waits for done, then throws <see cref="CancelledException"/> or
    /// <see cref="TimeoutException"/> as CPython's <c>result()</c> and <c>exception()</c> do.</summary>
    private protected void WaitDone(TimeSpan? timeout, CancellationToken cancellationToken)
    {
        if (!IsDone(State))
        {
            BlockUntilDone(Deadline.After(timeout), cancellationToken);
        }
        switch (State)
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

    private protected void ThrowIfFailed()
    {
        if (Volatile.Read(ref _exception) is { } exception)
        {
            ExceptionDispatchInfo.Throw(exception);
        }
    }

    private void BlockUntilDone(Deadline deadline, CancellationToken cancellationToken)
    {
        var listeners = Listeners();
        CancellationTokenRegistration registration = default;
        if (cancellationToken.CanBeCanceled)
        {
            cancellationToken.ThrowIfCancellationRequested();
            registration = cancellationToken.UnsafeRegister(static s =>
            {
                lock (s!)
                {
                    Monitor.PulseAll(s);
                }
            }, listeners);
        }
        lock (listeners)
        {
            listeners.Blocked++;
            try
            {
                while (!IsDone(State))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    int ms = deadline.RemainingMilliseconds;
                    if (ms == 0)
                    {
                        return;
                    }
                    Monitor.Wait(listeners, ms);
                }
            }
            finally
            {
                listeners.Blocked--;
                // Unregister, not Dispose: Dispose waits for a callback that is running, and the callback
                // takes this lock, which this thread holds: a token cancelled as the wait ends deadlocked.
                // A callback that runs late only pulses the monitor, which is harmless.
                registration.Unregister();
            }
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
        if (State is FutureState.Finished or FutureState.CancelledAndNotified)
        {
            return false; // final states: no lock needed to know it
        }
        var listeners = Listeners();
        lock (listeners)
        {
            // A completion that is writing its outcome (Completing) announces after this lock is
            // released, so the waiter is installed and told then.
            if (State is FutureState.Finished or FutureState.CancelledAndNotified)
            {
                return false;
            }
            listeners.AddWaiter(waiter, token);
            return true;
        }
    }

    /// <remarks>The futures drop their waiters once they told them that they are done, so that
    /// removing a waiter from a done future needs no lock: the caller installed it, so a list that is
    /// empty was dropped after it was told.</remarks>
    internal void RemoveWaiter(Waiter waiter)
    {
        if (Volatile.Read(ref _listeners) is not { HasWaiters: true } listeners)
        {
            return;
        }
        lock (listeners)
        {
            listeners.RemoveWaiter(waiter);
        }
    }

    /// <summary>True when finished by raising, for FIRST_EXCEPTION.</summary>
    internal bool FinishedWithException =>
        State == FutureState.Finished && Volatile.Read(ref _exception) is not null;

    /// <summary>How many waiters are installed now, for tests.</summary>
    internal int WaiterCount
    {
        get
        {
            if (Volatile.Read(ref _listeners) is not { } listeners)
            {
                return 0;
            }
            lock (listeners)
            {
                return listeners.WaiterCount;
            }
        }
    }

    /// <summary>The lock of this future's listeners, for tests that hold it.</summary>
    internal object ListenersLock => Listeners();

    /// <summary>Sets the state and the outcome without the usual checks, as Python code may do by
    /// assigning <c>_state</c>, <c>_result</c> and <c>_exception</c>. For the Python bridge and tests
    /// that mirror CPython's; waiters and blocked threads are told by <see cref="NotifyAll"/>.</summary>
    internal void ForceState(FutureState state) => Interlocked.Exchange(ref _state, (int)state);

    internal void ForceException(Exception? exception) => Interlocked.Exchange(ref _exception, exception);

    /// <summary>Python's <c>future._condition.notify_all()</c>: wakes threads blocked in
    /// <c>Result</c>/<c>Exception</c> so that they look at the state again.</summary>
    internal void NotifyAll()
    {
        if (Volatile.Read(ref _listeners) is not { } listeners)
        {
            return; // a blocked thread made the listeners before it blocked: none is blocked
        }
        lock (listeners)
        {
            Monitor.PulseAll(listeners);
        }
    }

    private protected virtual Task AsTaskCore()
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        AddDoneCallback(f =>
        {
            if (f.State != FutureState.Finished)
            {
                tcs.TrySetCanceled();
            }
            else if (f.FinishedException is { } ex)
            {
                tcs.TrySetException(ex);
            }
            else
            {
                tcs.TrySetResult();
            }
        });
        return tcs.Task;
    }
}
