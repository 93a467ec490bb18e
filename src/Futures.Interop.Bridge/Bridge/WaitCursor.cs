namespace CsFutures.Interop.Bridge;

/// <summary>
/// One <c>concurrent.futures.wait</c> of the Python package, waited in slices: the waiter is
/// installed on the pending futures once, at creation, as CPython installs its <c>_Waiter</c> once
/// (the package returns to Python between slices to handle signals, and no slice re-registers).
/// </summary>
internal sealed class WaitCursor : IDisposable
{
    private readonly Future[] _fs;
    private readonly HashSet<Future> _done = new(ReferenceEqualityComparer.Instance);
    private readonly List<Future> _installed = new();
    private readonly Waiter? _waiter; // none when the condition held at the first look
    private readonly ReturnWhen _returnWhen;
    private readonly int _distinct;
    private bool _anyException;

    public WaitCursor(Future[] fs, ReturnWhen returnWhen)
    {
        _fs = fs;
        _returnWhen = returnWhen;
        var all = new HashSet<Future>(fs, ReferenceEqualityComparer.Instance);
        _distinct = all.Count;
        foreach (var f in all)
        {
            if (f.State is FutureState.Finished or FutureState.CancelledAndNotified)
            {
                Accept(f);
            }
        }
        if (Holds)
        {
            return; // CPython returns before creating a waiter
        }
        _waiter = returnWhen == ReturnWhen.FirstCompleted
            ? new Waiter.AnyCompleted()
            : new Waiter.AllCompleted(_distinct - _done.Count, stopOnException: returnWhen == ReturnWhen.FirstException);
        foreach (var f in all)
        {
            if (_done.Contains(f))
            {
                continue;
            }
            if (f.TryInstallWaiter(_waiter))
            {
                _installed.Add(f);
            }
            else
            {
                // Done between the first look and now: it counts, and the waiter hears of it.
                _waiter.AddDone(f);
            }
        }
        Collect();
    }

    /// <summary>The return condition holds: the wait is over.</summary>
    public bool Holds => _returnWhen switch
    {
        ReturnWhen.FirstCompleted => _done.Count > 0,
        ReturnWhen.FirstException => _anyException || _done.Count == _distinct,
        _ => _done.Count == _distinct,
    };

    /// <summary>Waits up to <paramref name="slice"/> for the condition; true once it holds.</summary>
    public bool Step(TimeSpan slice)
    {
        if (!Holds && _waiter is not null)
        {
            _waiter.Event.Wait(slice);
            Collect();
        }
        return Holds;
    }

    /// <summary>Writes 1 for each done future, 0 for the others, in the creation order.</summary>
    public unsafe void Fill(byte* mask)
    {
        for (int i = 0; i < _fs.Length; i++)
        {
            mask[i] = _done.Contains(_fs[i]) ? (byte)1 : (byte)0;
        }
    }

    /// <summary>Removes the waiter from the futures it is still installed on.</summary>
    public void Dispose()
    {
        foreach (var f in _installed)
        {
            f.RemoveWaiter(_waiter!);
        }
        _installed.Clear();
    }

    private void Collect()
    {
        foreach (var f in _waiter!.TakeFinished())
        {
            Accept(f);
        }
    }

    private void Accept(Future f)
    {
        if (_done.Add(f) && f.FinishedWithException)
        {
            _anyException = true;
        }
    }
}
