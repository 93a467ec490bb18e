using CsFutures.Cluster;

namespace CsFutures.Interop.Cluster;

/// <summary>
/// How a <see cref="PythonClusterExecutor"/> reaches its cluster: the arguments of the Python face
/// <c>cs_futures.ClusterExecutor(address=None, *, max_workers, allowed_failures, max_payload, task_timeout)</c>.
/// Bindable from configuration (<see cref="ClusterHostingExtensions.AddPythonCluster"/>).
/// <see cref="PythonPoolOptions.MaxWorkers"/> is Python's <c>max_workers</c>: for the embedded node, its
/// number of worker processes (<c>null</c> for the number of processors); with an <see cref="Address"/>, the
/// most tasks held by nodes at once (<see cref="ClusterExecutorOptions.MaxInFlight"/>; <c>null</c> for no
/// cap). <see cref="PythonPoolOptions.Logger"/> is where the embedded node's worker pool logs worker deaths.
/// </summary>
public sealed class PythonClusterOptions : PythonPoolOptions
{
    /// <summary>The cluster to use (Python's <c>address</c>): gateways <c>HOST:PORT</c>, several separated
    /// by commas, or <c>redis://[:PASSWORD@]HOST:PORT</c>; <c>null</c>, the default, starts (or shares)
    /// the process's embedded in-process node, whose workers are processes of this host's Python. See
    /// <see cref="ClusterExecutorOptions.Address"/>.</summary>
    public string? Address { get; init; }

    /// <summary>Python's <c>allowed_failures</c> (Dask's <c>distributed.scheduler.allowed-failures</c>):
    /// lost attempts a task may survive; the next loss fails it with <see cref="KilledWorkerException"/>.
    /// Default 3.</summary>
    public int AllowedFailures { get; init; } = 3;

    /// <summary>Python's <c>max_payload</c>: the largest pickled call, in bytes (default 64 MiB); a larger
    /// one fails its future with <see cref="PayloadTooLargeException"/>.</summary>
    public int MaxPayload { get; init; } = 64 * 1024 * 1024;

    /// <summary>Python's <c>task_timeout</c>: how long one run of a task may take in its worker before the
    /// worker is killed and the future fails with <see cref="TimeoutException"/>; <c>null</c> for no limit.</summary>
    public TimeSpan? TaskTimeout { get; init; }

    /// <summary>The interpreter for the embedded node's workers; by default the one the host runs (its
    /// virtual environment's, if any). As <see cref="Processes.PythonProcessPoolOptions.PythonExecutable"/>.</summary>
    public string? PythonExecutable { get; init; }
}
