using System.Threading.Channels;

namespace CsFutures;

/// <summary>The futures of one <c>as_completed</c> iteration: those not yet done (with the waiter
/// installed) and those done and not yet yielded, in completion order. A yielded future is
/// forgotten at once.</summary>
internal sealed class CompletionCursor<TFuture> : IDisposable
    where TFuture : Future
{
    private readonly Waiter _waiter;
    private readonly HashSet<TFuture> _pending;
    private readonly Queue<TFuture> _ready = new();

    /// <summary>Installs <paramref name="waiter"/> on <paramref name="fs"/> (a set owned by the
    /// iteration); the futures already done are ready at once.</summary>
    public CompletionCursor(HashSet<TFuture> fs, Waiter waiter)
    {
        _waiter = waiter;
        _pending = fs;
        Total = fs.Count;
        foreach (var f in fs)
        {
            if (!f.TryInstallWaiter(waiter, out _))
            {
                _ready.Enqueue(f);
            }
        }
        foreach (var f in _ready)
        {
            _pending.Remove(f);
        }
    }

    public int Total { get; }

    /// <summary>Futures not yet known to be done: CPython's <c>len(pending)</c>.</summary>
    public int PendingCount => _pending.Count;

    public bool HasReady => _ready.Count > 0;

    public TFuture Take() => _ready.Dequeue();

    /// <summary>Exhausted: every future was taken.</summary>
    public bool Exhausted => _ready.Count == 0 && _pending.Count == 0;

    /// <summary>One bounded step for callers that must regain control between waits (the Python
    /// bridge returns to the interpreter every fraction of a second): the next done future, waiting
    /// at most <paramref name="wait"/> on the waiter's event; <c>false</c> when none is done yet or
    /// all were taken.</summary>
    public bool TryNext(TimeSpan wait, out TFuture? future)
    {
        if (_ready.Count == 0 && _pending.Count > 0)
        {
            _waiter.Event.Wait(wait);
            CollectFrom(_waiter);
        }
        return _ready.TryDequeue(out future);
    }

    public void CollectFrom(Waiter waiter)
    {
        foreach (var f in waiter.TakeFinished())
        {
            Accept(f);
        }
    }

    public void CollectFrom(ChannelReader<Future> reader)
    {
        while (reader.TryRead(out var f))
        {
            Accept(f);
        }
    }

    /// <summary>Removes the waiter from the futures never seen done.</summary>
    public void Dispose()
    {
        foreach (var f in _pending)
        {
            f.RemoveWaiter(_waiter);
        }
        _pending.Clear();
        _ready.Clear();
    }

    private void Accept(Future future)
    {
        var typed = (TFuture)future;
        if (_pending.Remove(typed)) // each future once, whatever reports it twice
        {
            typed.RemoveWaiter(_waiter);
            _ready.Enqueue(typed);
        }
    }
}
