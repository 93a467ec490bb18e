using System.Runtime.InteropServices;
using CsFutures.Interop.CPython;
using CsFutures.Interop.Cluster;

namespace CsFutures.Interop.Bridge;

/// <summary>The entry points of <c>cs_futures.cluster</c>: the cluster executor (a node runs as the .NET node
/// program, <c>python -m cs_futures.cluster worker</c>).</summary>
public static unsafe partial class NativeEntryPoints
{
    /// <summary>py: a cluster executor for pickled Python calls (<see cref="PythonCluster.ReadOptions"/>);
    /// <paramref name="decoder"/> is the package's <c>_decode(kind, data)</c>. Connects in the background.</summary>
    private static IntPtr ClusterNew(IntPtr config, IntPtr decoder)
    {
        try
        {
            return Handles.New(new PythonCluster(PythonCluster.ReadOptions(config), PyRef.Borrow(decoder)));
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
            return NewDict(
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
}
