namespace CsFutures.Cluster.Contracts;

/// <summary>Names shared by nodes and executors.</summary>
internal static class ClusterNames
{
    /// <summary>Orleans' <c>ClusterOptions.ClusterId</c> and <c>ServiceId</c>.</summary>
    internal const string ClusterId = "cs-futures";

    /// <summary>The key of the one <see cref="IExecutorDirectoryGrain"/> grain.</summary>
    internal const long DirectoryKey = 0;

    /// <summary>The key of the one <see cref="INodeStatsGrain"/> grain.</summary>
    internal const long NodeStatsKey = 0;

    /// <summary>Where a node's dashboard maps Orleans' own dashboard.</summary>
    internal const string OrleansDashboardPrefix = "/orleans";

    /// <summary>The hosts' content root: the application's folder, or this assembly's when the runtime
    /// is hosted without one (a Python process loads .NET through hostfxr, where
    /// <see cref="AppContext.BaseDirectory"/> may be empty and the host builder would refuse it).</summary>
    internal static string ContentRoot =>
        Path.IsPathRooted(AppContext.BaseDirectory) ? AppContext.BaseDirectory
            : Path.GetDirectoryName(typeof(ClusterNames).Assembly.Location) is { Length: > 0 } folder ? folder
            : Directory.GetCurrentDirectory();
}
