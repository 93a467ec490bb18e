using System.Threading.Channels;

namespace CsFutures.Cluster;

/// <summary>Sends one executor's results back from a node in batches (one-way calls). Completed once
/// its pull loop ended and every task it started has its result queued, so that no result of a task
/// still running is lost when the loop stops.</summary>
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

    private int _running;
    private int _closing;

    /// <summary>Counts <paramref name="count"/> tasks whose results will be <see cref="Add"/>ed.</summary>
    internal void Started(int count) => Interlocked.Add(ref _running, count);

    /// <summary>Queues the result of a task counted by <see cref="Started"/>.</summary>
    internal void Add(TaskResult result)
    {
        _results.Writer.TryWrite(result);
        if (Interlocked.Decrement(ref _running) == 0 && Volatile.Read(ref _closing) == 1)
        {
            _results.Writer.TryComplete();
        }
    }

    /// <summary>The pull loop ended: finish once the tasks still running have their results.</summary>
    internal void Complete()
    {
        Volatile.Write(ref _closing, 1);
        if (Volatile.Read(ref _running) == 0)
        {
            _results.Writer.TryComplete();
        }
    }

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
