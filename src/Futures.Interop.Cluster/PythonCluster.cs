using CsFutures.Cluster;
using CsFutures.Interop.Bridge;
using CsFutures.Interop.CPython;
using CsFutures.Interop.Processes;
using CsFutures.Interop.Runtime;

namespace CsFutures.Interop.Cluster;

/// <summary>
/// A <see cref="ClusterExecutor"/> for pickled Python calls, as the package's <c>cs_futures.ClusterExecutor</c>
/// uses it: payloads from <c>cs_futures/cluster</c>, futures that decode their replies lazily under the GIL.
/// </summary>
internal sealed unsafe class PythonCluster
{
    private readonly PyRef _decoder;

    public PythonCluster(ClusterExecutorOptions options, PyRef decoder, ClusterLogLines? logs = null)
    {
        Engine = new ClusterExecutor(options);
        _decoder = decoder;
        Logs = logs ?? new ClusterLogLines();
    }

    public ClusterExecutor Engine { get; }

    /// <summary>The executor's log lines, waiting for the package's <c>cluster_logs</c> (the options'
    /// <see cref="ClusterExecutorOptions.Log"/> when <see cref="ReadOptions"/> was given its <c>Add</c>).</summary>
    public ClusterLogLines Logs { get; }

    /// <summary>Queues a pickled call; <paramref name="timeout"/> limits each of its runs,
    /// <paramref name="allowedFailures"/> (when not null) replaces the executor's.</summary>
    public Future Submit(byte[] payload, TimeSpan? timeout, int? allowedFailures = null)
    {
        var future = new PythonClusterFuture(_decoder);
        Engine.SubmitWorkItem(new PythonProcessWorkItem(future, payload, timeout), allowedFailures);
        return future;
    }

    /// <summary>Reads the options tuple the package passes (see <c>cs_futures/cluster/__init__.py</c>):
    /// <c>(address or None, allowed_failures, max_payload, task_timeout or 0.0, max_in_flight or 0,
    /// local worker config or None, tls_cert or None, tls_ca or None, connect_timeout or 0.0 for none)</c>.</summary>
    /// <param name="config">The tuple.</param>
    /// <param name="log">The executor's <see cref="ClusterExecutorOptions.Log"/>, or null.</param>
    public static ClusterExecutorOptions ReadOptions(IntPtr config, Action<string>? log = null)
    {
        if (PyApi.PyTuple_Size(config) != 9)
        {
            PyApi.PyErr_Clear();
            throw new ArgumentException("the cluster configuration must be a tuple of 9 items");
        }
        IntPtr Item(int i) => PyApi.PyTuple_GetItem(config, i);
        string? Text(int i) => PyApi.NullIfNone(Item(i)) is var o && o != IntPtr.Zero
            ? PyApi.ReadString(o) ?? throw new ArgumentException($"item {i} of the cluster configuration must be a str")
            : null;
        double timeout = PyApi.PyFloat_AsDouble(Item(3));
        long inFlight = PyApi.PyLong_AsLongLong(Item(4));
        IntPtr worker = PyApi.NullIfNone(Item(5));
        double connect = PyApi.PyFloat_AsDouble(Item(8));
        return new ClusterExecutorOptions
        {
            Address = Text(0),
            AllowedFailures = (int)PyApi.PyLong_AsLongLong(Item(1)),
            MaxPayload = (int)PyApi.PyLong_AsLongLong(Item(2)),
            TaskTimeout = timeout > 0 ? TimeSpan.FromSeconds(timeout) : null,
            MaxInFlight = inFlight > 0 ? (int)inFlight : null,
            LocalWorker = worker == IntPtr.Zero ? null : PythonProcessPool.ReadOptions(worker),
            TlsCertificate = Text(6),
            TlsCa = Text(7),
            ConnectTimeout = connect > 0 ? TimeSpan.FromSeconds(connect) : null,
            Log = log,
        };
    }
}
