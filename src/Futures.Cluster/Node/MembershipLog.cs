using Microsoft.Extensions.Hosting;

namespace CsFutures.Cluster.Node;

/// <summary>A node's hosted service that logs the silos joining and leaving the cluster.</summary>
internal sealed class MembershipLog : BackgroundService
{
    private readonly IClusterMembershipService _membership;
    private readonly Action<string> _log;

    public MembershipLog(IClusterMembershipService membership, Action<string> log)
    {
        _membership = membership;
        _log = log;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var known = new Dictionary<SiloAddress, SiloStatus>();
        try
        {
            await foreach (var snapshot in _membership.MembershipUpdates.WithCancellation(stoppingToken).ConfigureAwait(false))
            {
                foreach (var (silo, member) in snapshot.Members)
                {
                    known.TryGetValue(silo, out var before);
                    if (member.Status == before)
                    {
                        continue;
                    }
                    known[silo] = member.Status;
                    if (member.Status == SiloStatus.Active)
                    {
                        _log($"node joined: {silo.ToParsableString()}");
                    }
                    else if (member.Status == SiloStatus.Dead)
                    {
                        _log($"node died or left: {silo.ToParsableString()}");
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
