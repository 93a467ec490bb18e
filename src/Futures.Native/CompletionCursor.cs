using System.Buffers;
using System.Numerics;
using System.Threading.Channels;

namespace CsFutures;

/// <summary>The futures of one <c>as_completed</c> iteration: each distinct future once, those done
/// at the start first, then the others in the order they report. The waiter is installed on each
/// future with its index in the iteration's copy as token, so that a report names its entry
/// without a lookup; an entry is cleared when its future is yielded, so that no yielded future is
/// kept alive (CPython's <c>_yield_finished_futures</c>).</summary>
internal sealed class CompletionCursor<TFuture> : IDisposable
    where TFuture : Future
{
    private readonly Waiter _waiter;
    private readonly TFuture?[] _fs;   // the iteration's copy: an entry is cleared once yielded, or at once when a repeat
    private readonly int[] _ready;     // indexes into _fs, in the order to yield: done at the start, then as reported
    private int _readyHead, _readyTail;
    private int _pending;              // installed on and not yet reported

    /// <summary>Takes <paramref name="fs"/> (a copy owned by the iteration) and, in one pass, installs
    /// <paramref name="waiter"/> on each distinct future, or makes it ready at once, in the order
    /// given, when it is done already.</summary>
    public CompletionCursor(TFuture[] fs, Waiter waiter)
    {
        _waiter = waiter;
        _fs = fs;
        Total = ClearRepeats(_fs);
        _ready = new int[Total];
        for (int i = 0; i < _fs.Length; i++)
        {
            if (_fs[i] is not { } f)
            {
                continue;
            }
            if (f.TryInstallWaiter(waiter, token: i))
            {
                _pending++;
            }
            else
            {
                _ready[_readyTail++] = i;
            }
        }
    }

    /// <summary>The distinct futures: CPython's <c>total_futures = len(fs)</c> after <c>set(fs)</c>.</summary>
    public int Total { get; }

    /// <summary>Futures not yet known to be done: CPython's <c>len(pending)</c>.</summary>
    public int PendingCount => _pending;

    public bool HasReady => _readyHead < _readyTail;

    /// <summary>Exhausted: every future was taken.</summary>
    public bool Exhausted => !HasReady && _pending == 0;

    public TFuture Take()
    {
        int index = _ready[_readyHead++];
        var f = _fs[index]!;
        _fs[index] = null;
        return f;
    }

    /// <summary>One bounded step for callers that must regain control between waits (the Python
    /// bridge returns to the interpreter every fraction of a second): the next done future, waiting
    /// at most <paramref name="wait"/> on the waiter's event; <c>false</c> when none is done yet or
    /// all were taken.</summary>
    public bool TryNext(TimeSpan wait, out TFuture? future)
    {
        if (!HasReady && _pending > 0)
        {
            _waiter.Event.Wait(wait);
            CollectFrom(_waiter);
        }
        if (!HasReady)
        {
            future = null;
            return false;
        }
        future = Take();
        return true;
    }

    public void CollectFrom(Waiter waiter)
    {
        for (var c = waiter.TakeCompletions(); c is not null; c = c.Next)
        {
            Accept(c.Token);
        }
    }

    public void CollectFrom(ChannelReader<int> reader)
    {
        while (reader.TryRead(out int token))
        {
            Accept(token);
        }
    }

    /// <summary>Removes the waiter from the futures never seen done.</summary>
    public void Dispose()
    {
        if (_pending > 0)
        {
            foreach (var f in _fs)
            {
                f?.RemoveWaiter(_waiter); // a no-op without a lock on a future done already
            }
            _pending = 0;
        }
        Array.Clear(_fs);
        _readyHead = _readyTail = 0;
    }

    /// <summary>A future installed with <paramref name="token"/> reported, which it does once.</summary>
    private void Accept(int token)
    {
        Invariants.Assert(_fs[token] is not null && _pending > 0, "a future reported twice to one as_completed");
        _pending--;
        _ready[_readyTail++] = token;
    }

    /// <summary>Clears every later occurrence of a future in <paramref name="fs"/> and returns how many
    /// distinct futures remain: CPython's <c>set(fs)</c>. One pass over a table of indexes keyed by the
    /// futures' identity hashes (open addressing, rented from the shared pool): a HashSet of 10,000
    /// futures is allocated on the large object heap, and each such allocation may start a full
    /// collection (one in 20 batches of the C# benchmark, when every collection was a full one).</summary>
    private static int ClearRepeats(TFuture?[] fs)
    {
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(2 * fs.Length, 16)); // at most half full
        int shift = 32 - BitOperations.Log2((uint)size);
        int[] slots = ArrayPool<int>.Shared.Rent(size); // the index plus one of the future in each slot; 0: free
        Array.Clear(slots, 0, size);
        int distinct = 0;
        for (int i = 0; i < fs.Length; i++)
        {
            var f = fs[i] ?? throw new ArgumentException("The futures must not be null.", "fs");
            // Fibonacci hashing: futures made one after another on a thread have consecutive hashes,
            // which a plain mask would put in one run of slots that another thread's futures collide with.
            int slot = (int)(((uint)f.IdentityHash * 0x9E3779B9u) >> shift);
            while (true)
            {
                int held = slots[slot];
                if (held == 0)
                {
                    slots[slot] = i + 1;
                    distinct++;
                    break;
                }
                if (ReferenceEquals(fs[held - 1], f))
                {
                    fs[i] = null;
                    break;
                }
                slot = (slot + 1) & (size - 1);
            }
        }
        ArrayPool<int>.Shared.Return(slots);
        return distinct;
    }
}
