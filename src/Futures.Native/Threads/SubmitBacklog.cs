namespace CsFutures.Threads;

/// <summary>
/// Keeps submitting threads from running far ahead of the workers: a submit that leaves more than
/// <c>high</c> items queued waits, outside the pool's lock and with the bridge's lock released (the
/// GIL), until the workers bring the queue down to half of that. Off (high 0) unless
/// <see cref="ThreadPoolExecutorOptions.MaxBacklog"/> is set; the Python bridge sets it.
/// </summary>
/// <remarks>
/// <para>Why: a Python submit through the bridge is one C call that never lets go of the GIL, so
/// threads that submit in a loop only lose the GIL when CPython forces a switch. The queue then grows
/// by hundreds of thousands of items, the workers and the submitters all wait for the GIL, and a thread
/// that wakes from a sleep waits its turn behind them (tens to hundreds of milliseconds). CPython's own
/// submit, being Python code that takes locks, keeps its submitters blocked on those locks instead. A
/// submitter waiting here holds neither the GIL nor a lock: the workers and any other Python thread get
/// the GIL at once.</para>
/// <para>Never a deadlock: the wait also ends when the workers take nothing from the queue for
/// a stall timeout (<see cref="DefaultStallTimeout"/>) (they are busy with long calls, or wait for something the submitter
/// holds); after such a stall no submit waits again until a worker takes an item. A pool's own workers
/// never wait (they are the ones that drain it), and shutdown ends every wait.</para>
/// </remarks>
internal sealed class SubmitBacklog
{
    /// <summary>How long a waiting submit accepts no progress from the workers before it gives up, by
    /// default: about CPython's switch interval, the time a waiting thread gives a GIL holder.</summary>
    public static readonly TimeSpan DefaultStallTimeout = TimeSpan.FromMilliseconds(5);

    private readonly int _high;
    private readonly TimeSpan _stallTimeout;
    private readonly int _low;
    private readonly object _gate = new();
    private long _taken;            // items the workers took from the queue
    private long _stalledAt = -1;   // _taken when a wait last saw no progress
    private int _waiters;           // submits waiting in Wait (read without the gate by workers)
    private int _waits;             // waits so far (for tests)

    /// <summary>Waits start above <paramref name="high"/> queued items (0: never) and end at half, or
    /// after <paramref name="stallTimeout"/> without progress.</summary>
    public SubmitBacklog(int high, TimeSpan stallTimeout)
    {
        _high = Math.Max(0, high);
        _low = _high / 2;
        _stallTimeout = stallTimeout;
    }

    /// <summary>False when submits never wait (<c>MaxBacklog</c> 0): the pool then counts nothing for it.</summary>
    public bool Enabled => _high > 0;

    /// <summary>How many submits waited so far.</summary>
    public int Waits => Volatile.Read(ref _waits);

    /// <summary>True when a submit that left <paramref name="queued"/> items should wait.</summary>
    public bool ShouldWait(int queued) =>
        _high > 0 && queued > _high && Volatile.Read(ref _taken) != Volatile.Read(ref _stalledAt);

    /// <summary>A worker took an item and left <paramref name="queued"/> behind.</summary>
    public void ItemTaken(int queued)
    {
        if (_high == 0)
        {
            return;
        }
        Interlocked.Increment(ref _taken);
        if (queued <= _low && Volatile.Read(ref _waiters) > 0)
        {
            Release();
        }
    }

    /// <summary>Ends every wait (the pool shut down or broke).</summary>
    public void Release()
    {
        lock (_gate)
        {
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Blocks until <paramref name="queued"/> is at most half the high mark, the workers stall,
    /// or <paramref name="ended"/> (shutdown).</summary>
    public void Wait(Func<int> queued, Func<bool> ended)
    {
        lock (_gate)
        {
            _waiters++;
            _waits++;
            try
            {
                while (queued() > _low && !ended())
                {
                    long before = Volatile.Read(ref _taken);
                    if (!Monitor.Wait(_gate, _stallTimeout) && Volatile.Read(ref _taken) == before)
                    {
                        Volatile.Write(ref _stalledAt, before);
                        return;
                    }
                }
            }
            finally
            {
                _waiters--;
            }
        }
    }
}
