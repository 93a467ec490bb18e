using System.Runtime.InteropServices;
using CsFutures.Interop.Bridge;
using CsFutures.Interop.CPython;

namespace CsFutures.Interop.Cluster.Bridge;

/// <summary>
/// The bridge's entry points of <c>cs_futures.cluster</c>: the cluster executor (a node runs as the .NET node
/// program, <c>python -m cs_futures.cluster worker</c>). They are builtins of the runtime-hosted engine module
/// (<c>cs_futures._engine</c> on CoreCLR) beside <see cref="NativeEntryPoints"/>' own, with the same contract
/// (named, described in <c>DESCRIPTION</c>, no exception leaving an entry).
/// </summary>
/// <remarks>The Python package starts the runtime-hosted engine through this assembly when it is
/// published with the package (<c>python/cs_futures/_dotnet</c>: the publish of this project, which brings
/// Futures.Interop): <see cref="CreateModule"/> adds these entries (<see cref="Register"/>), then makes the
/// module. The cluster runs on Orleans, which needs CoreCLR: the natively compiled engine has none of
/// these, and the package starts CoreCLR beside it when a cluster is used.</remarks>
public static unsafe class ClusterEntryPoints
{
    /// <summary>The cluster's entries, in the bridge's terms (<see cref="NativeEntryPoints.Entry"/>).</summary>
    internal static IReadOnlyList<NativeEntryPoints.Entry> Entries() =>
    [
        NativeEntryPoints.Py("cluster_new", "h:oo", (delegate*<IntPtr, IntPtr, IntPtr>)&ClusterNew, nameof(ClusterNew)),
        NativeEntryPoints.Py("cluster_submit", "h:hodi", (delegate*<IntPtr, IntPtr, double, int, IntPtr>)&ClusterSubmit, nameof(ClusterSubmit)),
        NativeEntryPoints.Py("cluster_shutdown", "i:hi", (delegate*<IntPtr, int, int>)&ClusterShutdown, nameof(ClusterShutdown)),
        NativeEntryPoints.Wait("cluster_join", "i:hd", (delegate*<IntPtr, double, int>)&ClusterJoin, nameof(ClusterJoin)),
        NativeEntryPoints.Py("cluster_stats", "o:h", (delegate*<IntPtr, IntPtr>)&ClusterStats, nameof(ClusterStats)),
        NativeEntryPoints.Py("cluster_logs", "o:h", (delegate*<IntPtr, IntPtr>)&ClusterLogs, nameof(ClusterLogs)),
    ];

    /// <summary>Adds the cluster's entries to the bridge (<see cref="NativeEntryPoints.Entries"/>), before
    /// its module is made; again, it does nothing.</summary>
    public static void Register() => NativeEntryPoints.AddEntries(typeof(ClusterEntryPoints), Entries());

    /// <summary>What the runtime-hosted package looks up through hostfxr and calls once, through ctypes,
    /// instead of <see cref="NativeEntryPoints.CreateModule"/> when this assembly is published with it: adds
    /// the cluster's entries, then makes the module <c>cs_futures._engine</c>, a new reference; NULL with a
    /// Python error set (or, before the C API is known, a message on stderr).</summary>
    [UnmanagedCallersOnly]
    public static IntPtr CreateModule(IntPtr pythonLibrary)
    {
        try
        {
            Register();
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"cs_futures: the cluster's entry points could not be added to the bridge: {ex.Message}");
            return IntPtr.Zero;
        }
        return EngineModule.Create(pythonLibrary);
    }

    /// <summary><see cref="CreateModule"/>'s address, for a package that loaded the assemblies through
    /// pythonnet (which has no hostfxr function pointers to ask).</summary>
    public static IntPtr ModuleFactory => (IntPtr)(delegate* unmanaged<IntPtr, IntPtr>)&CreateModule;

    /// <summary>py: a cluster executor for pickled Python calls (<see cref="PythonCluster.ReadOptions"/>);
    /// <paramref name="decoder"/> is the package's <c>_decode(kind, data)</c>. Connects in the background.</summary>
    private static IntPtr ClusterNew(IntPtr config, IntPtr decoder)
    {
        try
        {
            var logs = new ClusterLogLines();
            return Handles.New(new PythonCluster(PythonCluster.ReadOptions(config, logs.Add), PyRef.Borrow(decoder), logs));
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>py: queues a pickled call (bytes); <paramref name="timeout"/> in seconds limits each run,
    /// 0 for the executor's default; <paramref name="allowedFailures"/>, -1 for the executor's. Returns the
    /// future's handle.</summary>
    private static IntPtr ClusterSubmit(IntPtr handle, IntPtr payload, double timeout, int allowedFailures)
    {
        try
        {
            var cluster = Handles.Get<PythonCluster>(handle);
            byte[] bytes = PyApi.ReadBytes(payload);
            return Handles.New(cluster.Submit(bytes, timeout > 0 ? TimeSpan.FromSeconds(timeout) : null,
                allowedFailures >= 0 ? allowedFailures : null));
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>py: <c>shutdown(wait=False, cancel_futures)</c>; <c>cluster_join</c> waits.</summary>
    private static int ClusterShutdown(IntPtr handle, int cancelFutures)
    {
        try
        {
            Handles.Get<PythonCluster>(handle).Engine.Shutdown(wait: false, cancelFutures: cancelFutures != 0);
            return 0;
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, -1);
        }
    }

    /// <summary>wait: 1 once the executor shut down, every future is done and it left the cluster.</summary>
    private static int ClusterJoin(IntPtr handle, double seconds)
    {
        try
        {
            var engine = Handles.Get<PythonCluster>(handle).Engine;
            return engine.Stopped.Wait(TimeSpan.FromSeconds(seconds)) ? 1 : 0;
        }
        catch (Exception ex)
        {
            return BridgeErrors.WaitFailed(ex);
        }
    }

    /// <summary>py: a new dict of the executor's counters (<c>queued</c>, <c>in_flight</c>,
    /// <c>attempts_lost</c>, <c>lost_before_start</c>, <c>reclaimed</c>, <c>late_results_dropped</c>,
    /// <c>nodes_lost</c>, <c>watchdog_actions</c>) and
    /// <c>broken</c> (the reason, or None).</summary>
    private static IntPtr ClusterStats(IntPtr handle)
    {
        try
        {
            var engine = Handles.Get<PythonCluster>(handle).Engine;
            return NativeEntryPoints.NewDict(
            [
                ("queued", (long)engine.QueuedCount), ("in_flight", (long)engine.InFlightCount),
                ("attempts_lost", engine.AttemptsLost), ("lost_before_start", engine.LostBeforeStart),
                ("reclaimed", engine.Reclaimed), ("late_results_dropped", engine.LateResultsDropped),
                ("nodes_lost", engine.NodesLost), ("watchdog_actions", engine.WatchdogActions),
                ("broken", engine.Broken),
            ]);
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>py: a new list of the executor's log lines queued since the last call, oldest first, each a
    /// tuple <c>(level, line)</c> with <c>logging</c>'s level numbers (<see cref="ClusterLogLines"/>); the
    /// package hands them to the logger <c>cs_futures.cluster</c>.</summary>
    private static IntPtr ClusterLogs(IntPtr handle)
    {
        try
        {
            return Handles.Get<PythonCluster>(handle).Logs.DrainToPython();
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }
}
