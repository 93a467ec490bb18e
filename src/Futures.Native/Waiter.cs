namespace CsFutures;

/// <summary>
/// Collects the futures that finish while <see cref="Futures.Wait{TFuture}"/> or
/// <see cref="Futures.AsCompleted{TFuture}"/> waits on them: CPython's <c>_Waiter</c> family.
/// A future tells each installed waiter when it finishes, fails or is cancelled and notified.
/// </summary>
internal abstract class Waiter
{
    private readonly object _lock = new();
    private List<Future> _finished = new();

    public ManualResetEventSlim Event { get; } = new(false);

    public virtual void AddResult(Future future) => Record(future);

    public virtual void AddException(Future future) => Record(future);

    public virtual void AddCancelled(Future future) => Record(future);

    /// <summary>Takes the futures recorded so far and resets the event (as_completed's step).</summary>
    public List<Future> TakeFinished()
    {
        lock (_lock)
        {
            var finished = _finished;
            _finished = new List<Future>();
            Event.Reset();
            return finished;
        }
    }

    private protected void Record(Future future)
    {
        lock (_lock)
        {
            _finished.Add(future);
        }
    }

    /// <summary>Wakes the waiting thread at once: CPython's <c>_AsCompletedWaiter</c> and
    /// <c>_FirstCompletedWaiter</c>.</summary>
    internal sealed class AnyCompleted : Waiter
    {
        public Action? Signalled { get; init; }

        public override void AddResult(Future future) => RecordAndSet(future);

        public override void AddException(Future future) => RecordAndSet(future);

        public override void AddCancelled(Future future) => RecordAndSet(future);

        private void RecordAndSet(Future future)
        {
            Record(future);
            Event.Set();
            Signalled?.Invoke();
        }
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
