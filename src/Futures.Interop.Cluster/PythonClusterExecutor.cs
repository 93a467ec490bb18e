using CsFutures.Cluster;
using CsFutures.Interop.Processes;
using CsFutures.Interop.Runtime;
using Python.Runtime;
using CsFutures.Processes;
using CsFutures.Telemetry;

namespace CsFutures.Interop.Cluster;

/// <summary>
/// The cluster executor of the Python package (<c>cs_futures.ClusterExecutor</c>, Dask's
/// <c>Client.get_executor()</c>) for a .NET application that hosts Python: Python callables run in
/// worker processes of a cluster of nodes, a running one (<see cref="PythonClusterOptions.Address"/>)
/// or the process's embedded in-process node, whose workers are processes of the host's Python.
/// </summary>
/// <remarks>
/// <para>Calls are pickled in the host as for <see cref="PythonProcessPoolExecutor"/> (the callable by
/// reference, as <c>module.name</c>: use <see cref="PythonRuntime.GetCallable"/>), behind the cluster
/// tag of the host's Python version (nodes refuse a task from another minor version), sent by the
/// engine's <see cref="ClusterExecutor"/>, and the reply is unpickled and converted with
/// <see cref="PythonConvert"/>. A Python exception in the worker becomes
/// <see cref="PythonRaisedException"/> whose traceback includes the worker's; a task lost with its
/// worker or node more than <see cref="PythonClusterOptions.AllowedFailures"/> times,
/// <see cref="KilledWorkerException"/>; a payload over <see cref="PythonClusterOptions.MaxPayload"/>,
/// <see cref="PayloadTooLargeException"/>; a run over its time limit, <see cref="TimeoutException"/>;
/// a lost cluster, <see cref="ClusterUnavailableException"/>. The interpreter must be running
/// (<see cref="PythonRuntime.Start"/>).</para>
/// <para>The embedded node is shared by every embedded executor of the process (the first one starts
/// it, with its <see cref="PythonPoolOptions.MaxWorkers"/> and the host's <c>sys.path</c> as the
/// workers' settings; the last one to shut down stops it). Nodes started with
/// <c>python -m cs_futures.cluster worker</c> keep their own <c>sys.path</c>: the modules of the
/// callables must be importable there (a module loaded from a file adds its folder, which must exist
/// on the node's machine).</para>
/// </remarks>
public sealed class PythonClusterExecutor : PythonPoolExecutor
{
    /// <summary>The worker package of the process's cluster executors: one for all, since the embedded
    /// node they share starts its workers from the first one's copy; removed at process exit.</summary>
    private static readonly Lazy<WorkerPackage> s_package = new(() =>
    {
        var package = WorkerPackage.Extract();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => package.Dispose();
        return package;
    });

    private readonly PythonWorkerHost _host;

    /// <summary>Creates the executor and starts connecting in the background (Python:
    /// <c>ClusterExecutor(address, max_workers=..., allowed_failures=..., max_payload=..., task_timeout=...)</c>).
    /// Submitting before a node is up queues the tasks.</summary>
    /// <exception cref="PythonRaisedException">No python executable was found for the embedded node's workers.</exception>
    /// <exception cref="ArgumentException">Invalid options (a bad address).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative <see cref="PythonClusterOptions.AllowedFailures"/>,
    /// a <see cref="PythonClusterOptions.MaxPayload"/>, <see cref="PythonPoolOptions.MaxWorkers"/> or
    /// <see cref="PythonClusterOptions.TaskTimeout"/> that is not positive.</exception>
    public PythonClusterExecutor(PythonRuntime runtime, PythonClusterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        options ??= new PythonClusterOptions();
        if (options.MaxWorkers is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), FuturesMessages.MaxWorkersNotPositive);
        }
        _host = new PythonWorkerHost(s_package.Value, ownsPackage: false, options.PythonExecutable,
            initializer: null, initializerArguments: [], dumpsName: "dumps_cluster");
        bool embedded = options.Address is null;
        Engine = new ClusterExecutor(new ClusterExecutorOptions
        {
            Name = options.Name,
            Address = options.Address,
            AllowedFailures = options.AllowedFailures,
            MaxPayload = options.MaxPayload,
            TaskTimeout = options.TaskTimeout,
            MaxInFlight = embedded ? null : options.MaxWorkers,
            LocalWorker = embedded
                ? _host.PoolOptions(options) with { IsolateCrashes = true, Name = options.Name ?? "PythonClusterExecutor" }
                : null,
        });
    }

    /// <summary>The engine's cluster executor underneath (<see cref="ClusterExecutor.Connected"/>,
    /// <see cref="ClusterExecutor.AttemptsLost"/>, <see cref="ClusterExecutor.Stopped"/>, ...).</summary>
    public ClusterExecutor Engine { get; }

    /// <summary>Schedules <c>fn(*args)</c> in a worker process of the cluster: Python's
    /// <c>executor.submit(fn, *args)</c>.</summary>
    /// <typeparam name="T">The .NET type of the result (see <see cref="PythonConvert"/>).</typeparam>
    /// <param name="fn">A Python callable that pickles by reference (a module-level function).</param>
    /// <param name="args">The arguments, .NET values converted and pickled now.</param>
    /// <exception cref="PythonRaisedException">The call cannot be pickled.</exception>
    /// <exception cref="ClusterUnavailableException">The executor lost its cluster.</exception>
    /// <exception cref="InvalidOperationException">The executor was shut down.</exception>
    public override Future<T> SubmitPython<T>(PyObject fn, params object?[] args) => Submit<T>(fn, args, null);

    /// <summary>As <see cref="SubmitPython{T}(PyObject, object?[])"/>, with its own time limit for each
    /// run (Python's <c>task_timeout</c> for one task): the worker is killed when it passes, and the
    /// future fails with <see cref="TimeoutException"/>.</summary>
    public Future<T> SubmitPython<T>(TimeSpan timeout, PyObject fn, params object?[] args) => Submit<T>(fn, args, timeout);

    /// <summary>The executor's name (<see cref="ClusterExecutor.Name"/>).</summary>
    public override string Name => Engine.Name;

    /// <summary>What the executor has done so far: <see cref="ClusterExecutor.Stats"/>; the workers are the
    /// nodes' and are not counted here.</summary>
    public override ExecutorStats Stats() => Engine.Stats();

    // A shutdown that waits returns once every future is done and the executor has left the cluster (the
    // embedded node stops with its last executor).
    private protected override void ShutdownEngine(bool cancelFutures) => Engine.Shutdown(wait: true, cancelFutures);

    private protected override Task ShutdownEngineAsync(bool cancelFutures) => Engine.ShutdownAsync(cancelFutures);

    private Future<T> Submit<T>(PyObject fn, object?[] args, TimeSpan? timeout)
    {
        // Replies arrive on Orleans' threads: decode them (under the GIL) elsewhere.
        var item = _host.WorkItem<T>(fn, args, timeout, decodeOnThreadPool: true);
        Engine.SubmitWorkItem(item);
        return item.Typed;
    }
}
