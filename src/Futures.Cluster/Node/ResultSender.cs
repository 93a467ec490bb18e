using System.Threading.Channels;
using CsFutures.Cluster.Contracts;

namespace CsFutures.Cluster.Node;

/// <summary>Sends one executor's results back from a node in batches, each acknowledged
/// (<see cref="ITaskSource.Completed"/>): a batch whose call fails or goes unanswered for
/// <see cref="CallTimeout"/> is sent again, until <see cref="GiveUpAfter"/> (the executor is then taken
/// for gone, and later batches get one attempt each). Completed once its pull loop ended and every task
/// it started has its result queued, so that no result of a task still running is lost when the loop
/// stops.</summary>
/// <remarks>Why acknowledgement rather than reconciliation (the executor asking each node which tasks it
/// still holds): it needs no new per-node grain or placement, keeps the executor's rule that a result
/// counts only from the node holding the task (a duplicate is dropped as late), and recovers a lost
/// batch within one <see cref="CallTimeout"/> instead of one reconciliation period.</remarks>
internal sealed class ResultSender
{
    /// <summary>How long a batch waits for its acknowledgement before it is sent again: short, since a
    /// call through the executor's gateway that just died is otherwise answered only by Orleans' response
    /// timeout (30 s); a copy sent too early is dropped as late, at the cost of its bytes. 3 s, not 5:
    /// a batch lost with a killed gateway was the last of the killed node's neighbours' results to
    /// arrive (soak: the tasks in flight at the kill done 5-6 s after it with 5 s).</summary>
    internal static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(3);

    /// <summary>The longest pause between two sends of a batch.</summary>
    internal static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>How long a batch is retried before the executor is taken for gone.</summary>
    internal static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(90);

    private const int MaxBatchBytes = 16 * 1024 * 1024;
    private const int MaxBatchCount = 1000;

    private readonly Channel<TaskResult> _results = Channel.CreateUnbounded<TaskResult>(new() { SingleReader = true });
    private readonly ITaskSource _source;
    private readonly string _nodeId;
    private readonly Action<string> _log;
    private bool _executorGone;

    internal ResultSender(ITaskSource source, string nodeId, CancellationToken token, Action<string>? log = null)
    {
        _source = source;
        _nodeId = nodeId;
        _log = log ?? (_ => { });
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
                await DeliverAsync(batch.ToArray(), token).ConfigureAwait(false);
                batch.Clear();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    // Sends one batch until it is acknowledged, the node stops, or the executor is taken for gone.
    private async Task DeliverAsync(TaskResult[] batch, CancellationToken token)
    {
        var started = DateTime.UtcNow;
        var delay = TimeSpan.FromMilliseconds(200);
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await _source.Completed(_nodeId, batch).WaitAsync(CallTimeout, token).ConfigureAwait(false);
                if (attempt > 1)
                {
                    _log($"{batch.Length} result(s) delivered at attempt {attempt}");
                }
                return;
            }
            catch (Exception ex) when (!token.IsCancellationRequested)
            {
                if (_executorGone || DateTime.UtcNow - started > GiveUpAfter)
                {
                    if (!_executorGone)
                    {
                        _log($"gave up sending {batch.Length} result(s) after {attempt} attempts ({ex.GetType().Name}: {ex.Message}): the executor is taken for gone");
                    }
                    _executorGone = true;
                    return;
                }
                _log($"sending {batch.Length} result(s) failed ({ex.GetType().Name}: {ex.Message}); sending again");
                await Task.Delay(delay, token).ConfigureAwait(false);
                // At most a second apart: a call that fails fast (its route through a dead gateway is
                // refused) is retried soon after the route is repaired, not seconds later.
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
            }
        }
    }
}
