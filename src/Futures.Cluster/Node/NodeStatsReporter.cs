using CsFutures.Cluster.Contracts;
using Microsoft.Extensions.Hosting;

namespace CsFutures.Cluster.Node;

/// <summary>A node's hosted service that reports its <see cref="NodeCounters"/> and workers to the
/// <see cref="INodeStatsGrain"/> every second (every node does, so that any node's dashboard shows
/// them all).</summary>
internal sealed class NodeStatsReporter : BackgroundService
{
    private readonly NodeState _node;
    private readonly NodeCounters _counters;
    private readonly IGrainFactory _grains;

    public NodeStatsReporter(NodeState node, NodeCounters counters, IGrainFactory grains)
    {
        _node = node;
        _counters = counters;
        _grains = grains;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var grain = _grains.GetGrain<INodeStatsGrain>(ClusterNames.NodeStatsKey);
        while (!stoppingToken.IsCancellationRequested)
        {
            if (_node.NodeId.Length > 0)
            {
                try
                {
                    long started = _counters.Started, completed = _counters.Completed, failed = _counters.Failed;
                    int alive = _node.Pool.Workers.Count;
                    // The node holds up to two tasks per worker (TaskPuller.TasksPerWorker): busy workers are
                    // the tasks held, up to the workers alive.
                    long held = Math.Max(0, started - completed - failed);
                    var stats = new NodeStats(_node.NodeId, alive, _node.Pool.MaxWorkers,
                        Math.Min(held, alive), started, completed, failed);
                    await grain.Report(stats).WaitAsync(TimeSpan.FromSeconds(5), stoppingToken).ConfigureAwait(false);
                }
                catch (Exception) when (!stoppingToken.IsCancellationRequested)
                {
                    // The grain is (re)activating elsewhere: report again in a second.
                }
            }
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }
}
