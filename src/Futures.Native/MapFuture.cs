namespace CsFutures;

/// <summary>The future of one item of <see cref="Executor.Map{TSource, TResult}"/>, holding the function
/// and its argument until it runs: no closure and delegate per item, as <c>Submit(() =&gt; fn(item))</c>
/// would allocate.</summary>
internal sealed class MapFuture<TSource, TResult> : WorkFuture<TResult>
{
    private Func<TSource, TResult>? _fn;
    private TSource _arg;

    public MapFuture(Func<TSource, TResult> fn, TSource arg)
    {
        _fn = fn;
        _arg = arg;
    }

    public override void Run()
    {
        var fn = _fn;
        if (fn is null)
        {
            return; // ran (or was discarded) already
        }
        var arg = _arg;
        DropWork(); // drop the function and the argument as soon as it ran (CPython: GH-60488)
        RunCall(fn, arg);
    }

    private protected override void DropWork()
    {
        _fn = null;
        _arg = default!;
    }
}
