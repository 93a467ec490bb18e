namespace CsFutures;

/// <summary>
/// Collects the futures that finish while <see cref="Futures.Wait{TFuture}"/> or
/// <see cref="Futures.AsCompleted{TFuture}"/> waits on them: CPython's <c>_Waiter</c> family.
/// A future tells each installed waiter when it finishes, fails or is cancelled and notified.
/// </summary>
internal abstract class Waiter
{
    private Node? _recorded; // the futures recorded since the last take, newest first (a lock-free stack)

    public ManualResetEventSlim Event { get; } = new(false);

    public virtual void AddResult(Future future) => Record(future);

    public virtual void AddException(Future future) => Record(future);

    public virtual void AddCancelled(Future future) => Record(future);

    /// <summary>Takes the futures recorded so far, in the order they were recorded, and resets the
    /// event (as_completed's step). The event is reset before the futures are taken: a future
    /// recorded after the take sets it again.</summary>
    public List<Future> TakeFinished()
    {
        Event.Reset();
        BeforeTake();
        var node = Interlocked.Exchange(ref _recorded, null);
        var finished = new List<Future>();
        for (; node is not null; node = node.Next)
        {
            finished.Add(node.Future);
        }
        finished.Reverse();
        return finished;
    }

    /// <summary>Runs after the event is reset and before the futures are taken.</summary>
    private protected virtual void BeforeTake()
    {
    }

    private protected void Record(Future future)
    {
        var node = new Node(future);
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

    private sealed class Node(Future future)
    {
        public readonly Future Future = future;
        public Node? Next;
    }

    /// <summary>Wakes the waiting thread at once: CPython's <c>_AsCompletedWaiter</c> and
    /// <c>_FirstCompletedWaiter</c>.</summary>
    internal sealed class AnyCompleted : Waiter
    {
        public Action? Signalled { get; init; }

        public override void AddResult(Future future) => RecordAndSet(future);

        public override void AddException(Future future) => RecordAndSet(future);

        public override void AddCancelled(Future future) => RecordAndSet(future);

        private int _armed; // 1 once a record set the event since the last take: the next record needs no Set

        /// <summary>Records, and sets the event only for the first record since the last take (a
        /// <c>Set</c> costs an interlocked step on the event, and a kernel call while the reader
        /// sleeps). The reader resets the event, then disarms (a full fence), then takes: a record
        /// that finds the waiter armed was pushed before that take, and one that disarms it sets the
        /// event after the reset, so no record is left without a wake-up.</summary>
        private void RecordAndSet(Future future)
        {
            Record(future);
            // The read first spares the shared cache line a write while armed. Both sides write, fence
            // (the push's and the disarm's interlocked steps), then read: one of them sees the other.
            if (Volatile.Read(ref _armed) == 0 && Interlocked.Exchange(ref _armed, 1) == 0)
            {
                Event.Set();
            }
            Signalled?.Invoke();
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

        public override void AddResult(Future future)
        {
            Record(future);
            DecrementPending();
        }

        public override void AddException(Future future)
        {
            Record(future);
            if (_stopOnException)
            {
                Event.Set();
            }
            else
            {
                DecrementPending();
            }
        }

        public override void AddCancelled(Future future)
        {
            Record(future);
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
