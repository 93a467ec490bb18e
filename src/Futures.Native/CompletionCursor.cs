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
    private readonly Queue<TFuture> _ready;
    private int _doneAtStart; // the first futures of _ready, done at the start and still in _pending

    /// <summary>Installs <paramref name="waiter"/> on <paramref name="fs"/> (a set owned by the
    /// iteration); the futures already done are ready at once.</summary>
    public CompletionCursor(HashSet<TFuture> fs, Waiter waiter)
    {
        _waiter = waiter;
        _pending = fs;
        _ready = new Queue<TFuture>();
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

    /// <summary>Takes the futures of <paramref name="fs"/> (a copy owned by the iteration, cleared
    /// here so that it holds none of them), duplicates once, in one pass: each is added to the set and
    /// has the waiter installed, or is ready at once, in the order given, when it is done already.
    /// Those stay in the set until taken (<see cref="Take"/>), so that they are not looked at twice.</summary>
    public CompletionCursor(TFuture[] fs, Waiter waiter)
    {
        _waiter = waiter;
        _pending = new HashSet<TFuture>(fs.Length, FutureIdentityComparer<TFuture>.Instance);
        // Sized once (every future passes through it): doubling would copy it 12 times for 10,000
        // futures and reach the large object heap one step earlier.
        _ready = new Queue<TFuture>(fs.Length);
        foreach (var f in fs)
        {
            if (_pending.Add(f) && !f.TryInstallWaiter(waiter, out _))
            {
                _ready.Enqueue(f);
                _doneAtStart++;
            }
        }
        Array.Clear(fs);
        Total = _pending.Count;
    }

    public int Total { get; }

    /// <summary>Futures not yet known to be done: CPython's <c>len(pending)</c>.</summary>
    public int PendingCount => _pending.Count - _doneAtStart;

    public bool HasReady => _ready.Count > 0;

    public TFuture Take()
    {
        var f = _ready.Dequeue();
        if (_doneAtStart > 0)
        {
            _doneAtStart--;
            _pending.Remove(f);
        }
        return f;
    }

    /// <summary>Exhausted: every future was taken.</summary>
    public bool Exhausted => _ready.Count == 0 && PendingCount == 0;

    /// <summary>One bounded step for callers that must regain control between waits (the Python
    /// bridge returns to the interpreter every fraction of a second): the next done future, waiting
    /// at most <paramref name="wait"/> on the waiter's event; <c>false</c> when none is done yet or
    /// all were taken.</summary>
    public bool TryNext(TimeSpan wait, out TFuture? future)
    {
        if (_ready.Count == 0 && PendingCount > 0)
        {
            _waiter.Event.Wait(wait);
            CollectFrom(_waiter);
        }
        if (_ready.Count == 0)
        {
            future = null;
            return false;
        }
        future = Take();
        return true;
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
        if (_pending.Count > 0)
        {
            foreach (var f in _pending)
            {
                f.RemoveWaiter(_waiter); // none installed on the ones done at the start: a no-op
            }
            _pending.Clear();
        }
        _ready.Clear();
        _doneAtStart = 0;
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
