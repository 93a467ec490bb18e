using System.Threading.Channels;

namespace CsFutures.Cluster;

/// <summary>Sends one executor's results back from a node in batches (one-way calls).</summary>
internal sealed class ResultSender
{
    private const int MaxBatchBytes = 16 * 1024 * 1024;
    private const int MaxBatchCount = 1000;

    private readonly Channel<TaskResult> _results = Channel.CreateUnbounded<TaskResult>(new() { SingleReader = true });
    private readonly ITaskSource _source;
    private readonly string _nodeId;

    internal ResultSender(ITaskSource source, string nodeId, CancellationToken token)
    {
        _source = source;
        _nodeId = nodeId;
        Completion = Task.Run(() => SendAsync(token));
    }

    internal Task Completion { get; }

    internal void Add(TaskResult result) => _results.Writer.TryWrite(result);

    internal void Complete() => _results.Writer.TryComplete();

    private async Task SendAsync(CancellationToken token)
    {
        var batch = new List<TaskResult>();
        try
        {
            while (await _results.Reader.WaitToReadAsync(token).ConfigureAwait(false))
            {
                long bytes = 0;
                while (batch.Count < MaxBatchCount && bytes < MaxBatchBytes && _results.Reader.TryRead(out var result))
                {
                    batch.Add(result);
                    bytes += result.Data?.Length ?? 0;
                }
                try
                {
                    await _source.Completed(_nodeId, [.. batch]).ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // The executor is gone: nobody waits for these results.
                }
                batch.Clear();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
