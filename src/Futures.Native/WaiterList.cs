using System.Collections;

namespace CsFutures;

/// <summary>The waiters installed on one future (CPython's <c>Future._waiters</c>), in the order
/// installed: nearly always one (the <c>wait</c> or <c>as_completed</c> of one thread), held without
/// the list and array that a <see cref="List{T}"/> allocates for it. Used under the future's lock.</summary>
internal sealed class WaiterList : ICollection
{
    private Waiter? _first;          // null only when the list is empty
    private List<Waiter>? _rest;

    public WaiterList(Waiter first) => _first = first;

    public int Count => _first is null ? 0 : 1 + (_rest?.Count ?? 0);

    public Waiter this[int index] => index == 0 ? _first! : _rest![index - 1];

    bool ICollection.IsSynchronized => false;

    object ICollection.SyncRoot => this;

    public void Add(Waiter waiter)
    {
        if (_first is null)
        {
            _first = waiter;
        }
        else
        {
            (_rest ??= new List<Waiter>(1)).Add(waiter);
        }
    }

    public bool Remove(Waiter waiter)
    {
        if (!ReferenceEquals(_first, waiter))
        {
            return _rest?.Remove(waiter) ?? false;
        }
        if (_rest is { Count: > 0 } rest)
        {
            _first = rest[0]; // the order installed stays
            rest.RemoveAt(0);
        }
        else
        {
            _first = null;
        }
        return true;
    }

    public void CopyTo(Array array, int index)
    {
        for (int i = 0; i < Count; i++)
        {
            array.SetValue(this[i], index + i);
        }
    }

    public IEnumerator GetEnumerator()
    {
        for (int i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }
}
