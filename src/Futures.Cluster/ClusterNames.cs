namespace CsFutures.Cluster;

/// <summary>Names shared by nodes and executors.</summary>
internal static class ClusterNames
{
    /// <summary>Orleans' <c>ClusterOptions.ClusterId</c> and <c>ServiceId</c>.</summary>
    internal const string ClusterId = "cs-futures";

    /// <summary>The key of the one <see cref="IExecutorDirectory"/> grain.</summary>
    internal const long DirectoryKey = 0;
}
