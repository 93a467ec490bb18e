namespace CsFutures;

/// <summary>
/// The state of one <c>as_completed</c> iteration, advanced one future at a time with a bounded
/// wait, so that a caller can stop between steps (the Python bridge returns to the interpreter every
/// fraction of a second, for Ctrl-C). Futures already done come first; each future once.
/// </summary>
internal sealed class CompletionCursor<TFuture> : IDisposable
    where TFuture : Future
{
    private readonly Waiter _waiter = new Waiter.AnyCompleted();
    private readonly HashSet<TFuture> _pending;
    private readonly Queue<TFuture> _ready = new();

    public CompletionCursor(IEnumerable<TFuture> fs)
    {
        _pending = new HashSet<TFuture>(fs);
        Total = _pending.Count;
        foreach (var f in _pending)
        {
            if (!f.TryInstallWaiter(_waiter, out _))
            {
                _ready.Enqueue(f);
            }
        }
        foreach (var f in _ready)
        {
            _pending.Remove(f);
        }
    }

    /// <summary>The number of distinct futures.</summary>
    public int Total { get; }

    /// <summary>Futures not yet yielded (and not yet known to be done).</summary>
    public int Pending => _pending.Count;

    /// <summary>True when every future was yielded.</summary>
    public bool Exhausted => _ready.Count == 0 && _pending.Count == 0;

    /// <summary>The next done future, waiting at most <paramref name="wait"/>; <c>false</c> when none
    /// finished in that time or all were yielded.</summary>
    public bool TryNext(TimeSpan wait, CancellationToken cancellationToken, out TFuture? future)
    {
        if (_ready.Count == 0 && _pending.Count > 0)
        {
            if (wait != TimeSpan.Zero || _waiter.Event.IsSet)
            {
                _waiter.Event.Wait(wait, cancellationToken);
            }
            foreach (var f in _waiter.TakeFinished())
            {
                var typed = (TFuture)f;
                if (_pending.Remove(typed))
                {
                    typed.RemoveWaiter(_waiter);
                    _ready.Enqueue(typed);
                }
            }
        }
        return _ready.TryDequeue(out future);
    }

    /// <summary>Removes the waiter from the futures not yet done.</summary>
    public void Dispose()
    {
        foreach (var f in _pending)
        {
            f.RemoveWaiter(_waiter);
        }
        _pending.Clear();
        _ready.Clear();
    }
}
