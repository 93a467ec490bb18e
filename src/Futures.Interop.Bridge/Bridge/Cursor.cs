namespace CsFutures.Interop.Bridge;

/// <summary>One <c>as_completed</c> iteration of the Python package: the engine's
/// <see cref="CompletionCursor{TFuture}"/> over the distinct .NET futures, reporting Python's
/// indexes. Two Python objects may share one .NET future (<c>copy.copy</c>): both are yielded.</summary>
internal sealed class Cursor : IDisposable
{
    private readonly Dictionary<Future, List<int>> _indexes = new(ReferenceEqualityComparer.Instance);
    private readonly Queue<int> _ready = new();
    private readonly CompletionCursor<Future> _inner;

    public Cursor(Future[] fs)
    {
        for (int i = 0; i < fs.Length; i++)
        {
            if (!_indexes.TryGetValue(fs[i], out var list))
            {
                _indexes[fs[i]] = list = new List<int>(1);
            }
            list.Add(i);
        }
        _inner = new CompletionCursor<Future>(_indexes.Keys.ToArray(), new Waiter.AnyCompleted());
    }

    /// <summary>The index plus one of the next completed future, waiting at most
    /// <paramref name="wait"/>; 0 when none completed in time; <see cref="EntryCode.CursorExhausted"/>
    /// when every future was yielded.</summary>
    public int Next(TimeSpan wait)
    {
        if (_ready.Count == 0)
        {
            if (_inner.TryNext(wait, out var next))
            {
                foreach (int index in _indexes[next!])
                {
                    _ready.Enqueue(index);
                }
                _indexes.Remove(next!);
            }
            else if (_inner.Exhausted)
            {
                return (int)EntryCode.CursorExhausted;
            }
        }
        return _ready.TryDequeue(out int ready) ? ready + 1 : 0;
    }

    public void Dispose() => _inner.Dispose();
}
