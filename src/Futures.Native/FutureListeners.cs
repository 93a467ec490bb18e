namespace CsFutures;

/// <summary>
/// The part of a <see cref="Future"/> that only a future somebody listens to needs: its done-callbacks,
/// the waiters of <c>wait</c> and <c>as_completed</c> (CPython's <c>Future._waiters</c>), and the threads
/// blocked in <c>Result</c>. Created on the first listener; the object is also the lock under which
/// listeners are added and a completion tells them (CPython's <c>Future._condition</c>), so that a
/// future nobody listens to is completed without a lock or this allocation.
/// </summary>
/// <remarks>The waiters are kept in the order installed, each with the token it was installed with (an
/// <c>as_completed</c> iteration's index of the future), which the future hands back when it reports.
/// Nearly always one (the <c>wait</c> or <c>as_completed</c> of one thread), held without the list and
/// array that a <see cref="List{T}"/> allocates for it. Used under the lock of this object.</remarks>
internal sealed class FutureListeners
{
    private Waiter? _first;          // null only when no waiter is installed
    private int _firstToken;
    private List<(Waiter Waiter, int Token)>? _rest;

    /// <summary>The done-callbacks, in the order added; <c>null</c> once taken to run.</summary>
    public List<Action<Future>>? Callbacks;

    /// <summary>Threads waiting on this object's monitor for the future to be done.</summary>
    public int Blocked;

    /// <summary>True while a waiter is installed. Read without the lock by a caller that installed one:
    /// <c>false</c> then means that the future told it and dropped it.</summary>
    public bool HasWaiters => Volatile.Read(ref _first) is not null;

    public int WaiterCount => _first is null ? 0 : 1 + (_rest?.Count ?? 0);

    public (Waiter Waiter, int Token) WaiterAt(int index) => index == 0 ? (_first!, _firstToken) : _rest![index - 1];

    public void AddWaiter(Waiter waiter, int token)
    {
        if (_first is null)
        {
            (_first, _firstToken) = (waiter, token);
        }
        else
        {
            (_rest ??= new(1)).Add((waiter, token));
        }
    }

    public void RemoveWaiter(Waiter waiter)
    {
        if (!ReferenceEquals(_first, waiter))
        {
            int at = _rest?.FindIndex(entry => ReferenceEquals(entry.Waiter, waiter)) ?? -1;
            if (at >= 0)
            {
                _rest!.RemoveAt(at);
            }
            return;
        }
        if (_rest is { Count: > 0 } rest)
        {
            (_first, _firstToken) = rest[0]; // the order installed stays
            rest.RemoveAt(0);
        }
        else
        {
            _first = null;
        }
    }

    /// <summary>Drops every waiter once the future told them that it is done: a done future never
    /// reports again.</summary>
    public void ClearWaiters()
    {
        _first = null;
        _rest = null;
    }
}
