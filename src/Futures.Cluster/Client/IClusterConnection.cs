namespace CsFutures.Cluster.Client;

/// <summary>How an executor reaches the cluster: an Orleans client, or the embedded node.</summary>
internal interface IClusterConnection : IAsyncDisposable
{
    /// <summary>The grain factory to call the cluster through.</summary>
    IGrainFactory GrainFactory { get; }
}
