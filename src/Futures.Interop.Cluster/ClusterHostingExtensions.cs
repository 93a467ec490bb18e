using CsFutures.Interop.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace CsFutures.Interop.Cluster;

/// <summary>
/// Registers <see cref="PythonClusterExecutor"/> with <c>Microsoft.Extensions.DependencyInjection</c>, beside
/// <c>CsFutures.Interop.Hosting.HostingExtensions</c> (the interpreter and the other executors), which it needs:
/// <c>AddPythonRuntime</c> first.
/// </summary>
/// <example>
/// <code>
/// builder.Services.AddPythonRuntime(builder.Configuration.GetSection("Python"));
/// builder.Services.AddPythonCluster("cluster", builder.Configuration.GetSection("Clusters:cluster"));
/// // inject [FromKeyedServices("cluster")] PythonClusterExecutor
/// </code>
/// </example>
public static class ClusterHostingExtensions
{
    /// <summary>
    /// Registers a named <see cref="PythonClusterExecutor"/> (the Python package's
    /// <c>cs_futures.ClusterExecutor</c> for Python callables: worker processes of a cluster of nodes, or
    /// of the process's embedded node when no address is set) with options bound from
    /// <paramref name="configuration"/> (keys of <see cref="PythonClusterOptions"/>: <c>Address</c>,
    /// <c>MaxWorkers</c>, <c>AllowedFailures</c>, <c>MaxPayload</c>, <c>TaskTimeout</c>,
    /// <c>PythonExecutable</c>). Resolve it as a keyed <see cref="PythonClusterExecutor"/>; the container
    /// shuts it down (waiting for its tasks, leaving the cluster) when the host is disposed, before the
    /// interpreter.
    /// </summary>
    public static IServiceCollection AddPythonCluster(this IServiceCollection services, string name, IConfiguration configuration)
    {
        return HostingExtensions.AddPythonPool<PythonClusterOptions, PythonClusterExecutor>(services, name, configuration,
            (python, options) => new PythonClusterExecutor(python, options));
    }
}
