using System.Runtime.InteropServices;
using CsFutures.Interop.CPython;
using CsFutures.Processes;

namespace CsFutures.Interop.Bridge;

/// <summary>The entry points of the process pool: <c>ProcessPoolExecutor</c> and its worker processes (see <see cref="NativeEntryPoints"/>).</summary>
public static unsafe partial class NativeEntryPoints
{
    /// <summary>py: a process pool for pickled Python calls; <paramref name="decoder"/> is the package's
    /// <c>_decode(kind, data)</c>.</summary>
    private static IntPtr ProcessPoolNew(IntPtr config, IntPtr decoder)
    {
        try
        {
            if (PyApi.PyTuple_Size(config) < 0)
            {
                PyApi.PyErr_Clear();
                throw new ArgumentException("the process pool configuration must be a tuple");
            }
            var options = PythonProcessPool.ReadOptions(config);
            return Handles.New(new PythonProcessPool(options, PyRef.Borrow(decoder)));
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>py: submits a pickled call (bytes); <paramref name="timeout"/> in seconds, 0 for the
    /// pool's default. Returns the future's handle.</summary>
    private static IntPtr ProcessPoolSubmit(IntPtr handle, IntPtr payload, double timeout)
    {
        try
        {
            var pool = Handles.Get<PythonProcessPool>(handle);
            byte[] bytes = PyApi.ReadBytes(payload);
            return Handles.New(pool.Submit(bytes, timeout > 0 ? TimeSpan.FromSeconds(timeout) : null));
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>py: what <see cref="PoolShutdown"/> selects.</summary>
    private static int ProcessPoolShutdown(IntPtr handle, int cancelFutures, int mode)
    {
        try
        {
            var engine = Handles.Get<PythonProcessPool>(handle).Engine;
            switch ((PoolShutdown)mode)
            {
                case PoolShutdown.Terminate:
                    engine.TerminateWorkers();
                    break;
                case PoolShutdown.Kill:
                    engine.KillWorkers();
                    break;
                case PoolShutdown.Shutdown:
                    engine.Shutdown(wait: false, cancelFutures: cancelFutures != 0);
                    break;
                case PoolShutdown.ForceShuttingDown:
                    engine.StopReplacingWorkers(ProcessPoolExecutor.ForceShutdownMessage);
                    break;
                case PoolShutdown.Collected:
                    engine.StopReplacingWorkers(ProcessPoolExecutor.CollectedMessage);
                    engine.Shutdown(wait: false, cancelFutures: cancelFutures != 0);
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(mode), mode, "not a PoolShutdown mode");
            }
            return 0;
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, -1);
        }
    }

    /// <summary>wait: 1 once the pool shut down and every worker exited.</summary>
    private static int ProcessPoolJoin(IntPtr handle, double seconds)
    {
        try
        {
            return Handles.Get<PythonProcessPool>(handle).Engine.Join(TimeSpan.FromSeconds(seconds)) ? 1 : 0;
        }
        catch (Exception ex)
        {
            return BridgeErrors.WaitFailed(ex);
        }
    }

    /// <summary>py: what <see cref="ProcessPoolInfo"/> selects.</summary>
    private static long ProcessPoolInfoOf(IntPtr handle, int what)
    {
        try
        {
            var engine = Handles.Get<PythonProcessPool>(handle).Engine;
            return (ProcessPoolInfo)what switch
            {
                ProcessPoolInfo.MaxWorkers => engine.MaxWorkers,
                ProcessPoolInfo.WorkerCount => engine.Workers.Count,
                ProcessPoolInfo.IsBroken => engine.Broken is null ? 0 : 1,
                ProcessPoolInfo.IsShutdown => engine.IsShutdown ? 1 : 0,
                ProcessPoolInfo.QueuedCount => engine.QueuedCount,
                _ => throw new ArgumentOutOfRangeException(nameof(what), what, "not a ProcessPoolInfo selector"),
            };
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, -1L);
        }
    }

    /// <summary>py: a list of the current workers' pids.</summary>
    private static IntPtr ProcessPoolWorkers(IntPtr handle)
    {
        try
        {
            int[] pids = Handles.Get<PythonProcessPool>(handle).WorkerPids();
            IntPtr list = PyApi.PyList_New(pids.Length);
            for (int i = 0; i < pids.Length; i++)
            {
                PyApi.PyList_SetItem(list, i, PyApi.PyLong_FromLongLong(pids[i]));
            }
            return list;
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>py: <see cref="WorkerOp"/> on worker <paramref name="pid"/>;
    /// <see cref="EntryCode.WorkerUnknown"/> for a pid the pool never listed.</summary>
    private static long ProcessWorkerOp(IntPtr handle, int pid, int op)
    {
        try
        {
            var worker = Handles.Get<PythonProcessPool>(handle).Worker(pid);
            if (worker is null)
            {
                return (long)EntryCode.WorkerUnknown;
            }
            switch ((WorkerOp)op)
            {
                case WorkerOp.Terminate:
                    worker.Terminate();
                    return 0;
                case WorkerOp.Kill:
                    worker.Kill();
                    return 0;
                case WorkerOp.ExitCode:
                    return worker.IsAlive ? (long)EntryCode.WorkerAlive : worker.ExitCode ?? (long)EntryCode.WorkerUnknown;
                default:
                    throw new ArgumentOutOfRangeException(nameof(op), op, "not a WorkerOp");
            }
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, -1L);
        }
    }

    /// <summary>wait: 1 once worker <paramref name="pid"/> has exited (or is unknown).</summary>
    private static int ProcessWorkerJoin(IntPtr handle, int pid, double seconds)
    {
        try
        {
            var worker = Handles.Get<PythonProcessPool>(handle).Worker(pid);
            return worker is null || worker.Join(TimeSpan.FromSeconds(seconds)) ? 1 : 0;
        }
        catch (Exception ex)
        {
            return BridgeErrors.WaitFailed(ex);
        }
    }
}
