namespace CsFutures.Cluster.Contracts;

/// <summary>
/// The active nodes as the answering node sees them. A stateless worker, so it is answered by the
/// gateway node the caller reaches (any live one), never by a grain that lived on a dead node: an
/// executor reads the membership through it and keeps reading it while a dead node's grains move.
/// </summary>
[Alias("CsFutures.Cluster.IMembershipView")]
public interface IMembershipViewGrain : IGrainWithIntegerKey
{
    /// <summary>The addresses (<c>SiloAddress.ToParsableString()</c>) of the nodes active in the answering
    /// node's view of the membership.</summary>
    [Alias("ActiveNodes")]
    Task<string[]> ActiveNodes();
}
