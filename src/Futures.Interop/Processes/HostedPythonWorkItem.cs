using CsFutures.Interop.CPython;
using CsFutures.Interop.Runtime;

namespace CsFutures.Interop.Processes;

/// <summary>A pickled Python call from a .NET host; the reply is decoded and converted to
/// <typeparamref name="T"/> on the pool's reader thread, under the GIL.</summary>
internal sealed class HostedPythonWorkItem<T> : ProcessWorkItem
{
    private readonly Future<T> _future = new();
    private readonly Func<bool, byte[], T> _decode;

    public HostedPythonWorkItem(byte[] payload, TimeSpan? timeout, Func<bool, byte[], T> decode)
        : base(payload, timeout)
    {
        _decode = decode;
    }

    public override Future Future => _future;

    public Future<T> Typed => _future;

    public override void Complete(bool succeeded, byte[] reply)
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
