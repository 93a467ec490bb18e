using CsFutures.Interop.CPython;
using CsFutures.Interop.Runtime;
using CsFutures.Processes;

namespace CsFutures.Interop.Processes;

/// <summary>A pickled Python call from a .NET host; the reply is decoded and converted to
/// <typeparamref name="T"/> under the GIL: on the thread that delivers it (the pool's reader thread),
/// or, with <c>decodeOnThreadPool</c>, on a thread-pool thread.</summary>
internal sealed class HostedPythonWorkItem<T> : ProcessWorkItem
{
    private readonly Future<T> _future = new();
    private readonly Func<bool, byte[], T> _decode;
    private readonly bool _decodeOnThreadPool;

    public HostedPythonWorkItem(byte[] payload, TimeSpan? timeout, Func<bool, byte[], T> decode, bool decodeOnThreadPool = false)
        : base(payload, timeout)
    {
        _decode = decode;
        _decodeOnThreadPool = decodeOnThreadPool;
    }

    public override Future Future => _future;

    public Future<T> Typed => _future;

    public override void Complete(bool succeeded, byte[] reply)
    {
        if (_decodeOnThreadPool)
        {
            ThreadPool.UnsafeQueueUserWorkItem(_ => Finish(succeeded, reply), null);
        }
        else
        {
            Finish(succeeded, reply);
        }
    }

    private void Finish(bool succeeded, byte[] reply)
    {
        T value;
        try
        {
            value = _decode(succeeded, reply);
        }
        catch (Exception ex)
        {
            _future.SetException(ex);
            return;
        }
        _future.SetResult(value);
    }
}
