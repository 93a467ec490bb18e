namespace CsFutures;

/// <summary>The waiters installed on one future (CPython's <c>Future._waiters</c>), in the order
/// installed, each with the token it was installed with (an <c>as_completed</c> iteration's index of
/// the future), which the future hands back when it reports. Nearly always one (the <c>wait</c> or
/// <c>as_completed</c> of one thread), held without the list and array that a <see cref="List{T}"/>
/// allocates for it. Used under the future's lock.</summary>
internal sealed class WaiterList
{
    private Waiter? _first;          // null only when the list is empty
    private int _firstToken;
    private List<(Waiter Waiter, int Token)>? _rest;

    public WaiterList(Waiter first, int token)
    {
        _first = first;
        _firstToken = token;
    }

    public int Count => _first is null ? 0 : 1 + (_rest?.Count ?? 0);

    public (Waiter Waiter, int Token) this[int index] => index == 0 ? (_first!, _firstToken) : _rest![index - 1];

    public void Add(Waiter waiter, int token)
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

    public void Remove(Waiter waiter)
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
}
