namespace CsFutures;

/// <summary>
/// Collects the futures that finish while <see cref="Futures.Wait{TFuture}"/> or
/// <see cref="Futures.AsCompleted{TFuture}"/> waits on them: CPython's <c>_Waiter</c> family.
/// A future tells each installed waiter when it finishes, fails or is cancelled and notified, with
/// the token the waiter was installed with (see <see cref="Future.TryInstallWaiter"/>).
/// </summary>
internal abstract class Waiter
{
    private Completion? _recorded; // the completions recorded since the last take, newest first (a lock-free stack)

    public ManualResetEventSlim Event { get; } = new(false);

    /// <summary>True when the future must tell this waiter after it released its listeners' lock
    /// (a waiter that takes another lock to report, such as the Python bridge's, which takes the GIL:
    /// a thread holding the GIL may be waiting for the listeners' lock to install a waiter). The
    /// waiter is still taken off the future under the lock, so it is told once.</summary>
    internal virtual bool TellsOutsideLock => false;

    public virtual void AddResult(Future future, int token) => Record(future, token);

    public virtual void AddException(Future future, int token) => Record(future, token);

    public virtual void AddCancelled(Future future, int token) => Record(future, token);

    /// <summary>Reports <paramref name="future"/>, found done after it could not take the waiter
    /// any more, as it would have reported itself.</summary>
    public void AddDone(Future future, int token = 0) =>
        Tell(future, token, future.State, future.FinishedWithException);

    /// <summary>Reports <paramref name="future"/> as done in <paramref name="state"/>: FINISHED, with
    /// an exception when <paramref name="failed"/>, or cancelled (and notified).</summary>
    internal void Tell(Future future, int token, FutureState state, bool failed)
    {
        if (state != FutureState.Finished)
        {
            AddCancelled(future, token);
        }
        else if (failed)
        {
            AddException(future, token);
        }
        else
        {
            AddResult(future, token);
        }
    }

    /// <summary>Takes the completions recorded so far, oldest first, and resets the event
    /// (as_completed's step). The event is reset before the completions are taken: a completion
    /// recorded after the take sets it again.</summary>
    public Completion? TakeCompletions()
    {
        Event.Reset();
        BeforeTake();
        var newest = Interlocked.Exchange(ref _recorded, null);
        Completion? oldest = null;
        while (newest is not null) // reversed in place: the taken chain is this thread's alone
        {
            var next = newest.Next;
            newest.Next = oldest;
            oldest = newest;
            newest = next;
        }
        return oldest;
    }

    /// <summary>The futures of <see cref="TakeCompletions"/>, in the order they were recorded.</summary>
    public List<Future> TakeFinished()
    {
        var finished = new List<Future>();
        for (var c = TakeCompletions(); c is not null; c = c.Next)
        {
            finished.Add(c.Future);
        }
        return finished;
    }

    /// <summary>Runs after the event is reset and before the completions are taken.</summary>
    private protected virtual void BeforeTake()
    {
    }

    private protected void Record(Future future, int token)
    {
        var node = new Completion(future, token);
        var head = Volatile.Read(ref _recorded);
        while (true)
        {
            node.Next = head;
            var seen = Interlocked.CompareExchange(ref _recorded, node, head);
            if (seen == head)
            {
                return;
            }
            head = seen;
        }
    }

    /// <summary>One reported future and its token; <see cref="Next"/> is the next one taken.</summary>
    internal sealed class Completion(Future future, int token)
    {
        public readonly Future Future = future;
        public readonly int Token = token;
        public Completion? Next;
    }

    /// <summary>Wakes the waiting thread at once: CPython's <c>_AsCompletedWaiter</c> and
    /// <c>_FirstCompletedWaiter</c>.</summary>
    internal sealed class AnyCompleted : Waiter
    {
        public override void AddResult(Future future, int token) => RecordAndSet(future, token);

        public override void AddException(Future future, int token) => RecordAndSet(future, token);

        public override void AddCancelled(Future future, int token) => RecordAndSet(future, token);

        private int _armed; // 1 once a record set the event since the last take: the next record needs no Set

        /// <summary>Records, and sets the event only for the first record since the last take (a
        /// <c>Set</c> costs an interlocked step on the event, and a kernel call while the reader
        /// sleeps). The reader resets the event, then disarms (a full fence), then takes: a record
        /// that finds the waiter armed was pushed before that take, and one that disarms it sets the
        /// event after the reset, so no record is left without a wake-up.</summary>
        private void RecordAndSet(Future future, int token)
        {
            Record(future, token);
            // The read first spares the shared cache line a write while armed. Both sides write, fence
            // (the push's and the disarm's interlocked steps), then read: one of them sees the other.
            if (Volatile.Read(ref _armed) == 0 && Interlocked.Exchange(ref _armed, 1) == 0)
            {
                Event.Set();
            }
        }

        private protected override void BeforeTake() => Interlocked.Exchange(ref _armed, 0);
    }

    /// <summary>Wakes the waiting thread when all pending futures are done, or at the first
    /// exception when asked to: CPython's <c>_AllCompletedWaiter</c>.</summary>
    internal sealed class AllCompleted : Waiter
    {
        private readonly bool _stopOnException;
        private int _pending;

        public AllCompleted(int pending, bool stopOnException)
        {
            _pending = pending;
            _stopOnException = stopOnException;
        }

        public override void AddResult(Future future, int token)
        {
            Record(future, token);
            DecrementPending();
        }

        public override void AddException(Future future, int token)
        {
            Record(future, token);
            if (_stopOnException)
            {
                Event.Set();
            }
            else
            {
                DecrementPending();
            }
        }

        public override void AddCancelled(Future future, int token)
        {
            Record(future, token);
            DecrementPending();
        }

        private void DecrementPending()
        {
            if (Interlocked.Decrement(ref _pending) == 0)
            {
                Event.Set();
            }
        }
    }
}
