namespace CsFutures.Processes;

/// <summary>The work item behind <see cref="ProcessPoolExecutor.Submit(ReadOnlyMemory{byte}, TimeSpan?)"/>.</summary>
internal sealed class BytesWorkItem : ProcessWorkItem
{
    private readonly Future<byte[]> _future = new();

    public BytesWorkItem(ReadOnlyMemory<byte> payload, TimeSpan? timeout)
        : base(payload, timeout)
    {
    }

    public override Future Future => _future;

    public Future<byte[]> Typed => _future;

    public override void Complete(bool succeeded, byte[] reply)
    {
        if (succeeded)
        {
            _future.SetResult(reply);
        }
        else
        {
            _future.SetException(new WorkerTaskException(reply));
        }
    }
}
