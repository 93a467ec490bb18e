using CsFutures.Cluster.Contracts;
using Orleans.Concurrency;

namespace CsFutures.Cluster.Grains;

/// <summary>Answers <see cref="IMembershipViewGrain"/> from the local node's membership snapshot.</summary>
[StatelessWorker]
internal sealed class MembershipViewGrain(IClusterMembershipService membership) : Grain, IMembershipViewGrain
{
    public Task<string[]> ActiveNodes() => Task.FromResult(
        membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active)
            .Select(m => m.SiloAddress.ToParsableString())
            .ToArray());
}
