using CsFutures.Cluster.Contracts;
using Microsoft.Extensions.Hosting;

namespace CsFutures.Cluster.Dashboard;

/// <summary>
/// The dashboard node's hosted service: every second, reads the membership, the
/// <see cref="INodeStatsGrain"/> and the <see cref="IExecutorDirectoryGrain"/> into a
/// <see cref="ClusterSnapshot"/> (what <c>/api/cluster</c> answers, whoever polls it and how often),
/// and keeps the last two minutes of tasks per second.
/// </summary>
internal sealed class DashboardSampler : BackgroundService
{
    private const int HistoryLength = 120;
    private static readonly TimeSpan RateWindow = TimeSpan.FromSeconds(3);

    private readonly IClusterMembershipService _membership;
    private readonly IGrainFactory _grains;
    private readonly Queue<RatePoint> _history = new();
    private readonly Queue<(DateTime Time, long Ended)> _ended = new();
    private volatile ClusterSnapshot _latest = ClusterSnapshot.Empty;

    public DashboardSampler(IClusterMembershipService membership, IGrainFactory grains)
    {
        _membership = membership;
        _grains = grains;
    }

    /// <summary>The latest snapshot.</summary>
    internal ClusterSnapshot Latest => _latest;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                _latest = await SampleAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception) when (!stoppingToken.IsCancellationRequested)
            {
                // A grain is (re)activating elsewhere: the page keeps the last snapshot for a second.
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

    private async Task<ClusterSnapshot> SampleAsync(CancellationToken token)
    {
        var timeout = TimeSpan.FromSeconds(5);
        var reports = _grains.GetGrain<INodeStatsGrain>(ClusterNames.NodeStatsKey).List().WaitAsync(timeout, token);
        var entries = _grains.GetGrain<IExecutorDirectoryGrain>(ClusterNames.DirectoryKey).List().WaitAsync(timeout, token);
        var stats = (await reports.ConfigureAwait(false)).ToDictionary(s => s.NodeId);
        var executors = (await entries.ConfigureAwait(false)).Select(e => new ExecutorView(e.ExecutorId, e.Stats)).ToList();
        var nodes = _membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status != SiloStatus.Dead)
            .OrderBy(m => m.SiloAddress.ToString(), StringComparer.Ordinal)
            .Select(m =>
            {
                string id = m.SiloAddress.ToParsableString();
                return new NodeView(id, m.SiloAddress.Endpoint.ToString(), m.Status.ToString(),
                    m.Status == SiloStatus.Active ? stats.GetValueOrDefault(id) : null);
            })
            .ToList();
        var active = nodes.Where(n => n.Status == nameof(SiloStatus.Active)).ToList();
        var counted = executors.Where(e => e.Stats is not null).Select(e => e.Stats!).ToList();
        var totals = new ClusterTotals(
            active.Count,
            active.Sum(n => n.Stats?.Workers ?? 0),
            active.Sum(n => n.Stats?.Busy ?? 0),
            executors.Count,
            counted.Sum(s => s.Submitted),
            counted.Sum(s => s.Queued),
            counted.Sum(s => s.Running),
            counted.Sum(s => s.Done),
            counted.Sum(s => s.Failed),
            counted.Sum(s => s.Reclaimed),
            counted.Sum(s => s.WatchdogActions),
            counted.Sum(s => s.NodesLost));

        // Tasks per second from the nodes' counters (they outlive executors): ended over the last few
        // seconds; a node that left takes its count with it, so a drop counts as none.
        var now = DateTime.UtcNow;
        long ended = active.Sum(n => (n.Stats?.Completed ?? 0) + (n.Stats?.Failed ?? 0));
        _ended.Enqueue((now, ended));
        while (_ended.Count > 1 && now - _ended.Peek().Time > RateWindow)
        {
            _ended.Dequeue();
        }
        var (since, before) = _ended.Peek();
        double seconds = (now - since).TotalSeconds;
        double rate = seconds > 0.5 ? Math.Max(0, ended - before) / seconds : 0;
        long unixMs = new DateTimeOffset(now).ToUnixTimeMilliseconds();
        _history.Enqueue(new RatePoint(unixMs, Math.Round(rate, 1)));
        while (_history.Count > HistoryLength)
        {
            _history.Dequeue();
        }
        return new ClusterSnapshot(unixMs, nodes, executors, totals, Math.Round(rate, 1), _history.ToArray());
    }
}
