namespace CsFutures;

/// <summary>The future of <see cref="Executor.Submit{T}(Func{T})"/>, holding its delegate until it runs:
/// CPython's <c>Future</c> and <c>_WorkItem(future, fn, args, kwargs)</c> in one object.</summary>
internal sealed class DelegateFuture<T> : WorkFuture<T>
{
    private Func<T>? _fn;

    public DelegateFuture(Func<T> fn) => _fn = fn;

    public override void Run()
    {
        var fn = _fn;
        if (fn is null)
        {
            return; // ran (or was discarded) already
        }
        _fn = null; // drop the closure as soon as it ran (CPython: GH-60488)
        RunCall(fn);
    }

    private protected override void DropWork() => _fn = null;
}
