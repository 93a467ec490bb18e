using Orleans.Concurrency;

namespace CsFutures.Cluster;

/// <summary>Answers <see cref="IMembershipView"/> from the local node's membership snapshot.</summary>
[StatelessWorker]
internal sealed class MembershipViewGrain(IClusterMembershipService membership) : Grain, IMembershipView
{
    public Task<string[]> ActiveNodes() => Task.FromResult(
        membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active)
            .Select(m => m.SiloAddress.ToParsableString())
            .ToArray());
}
