using System.Runtime.InteropServices;
using CsFutures.Interop.CPython;
using CsFutures.Interop.Threads;
using CsFutures.Telemetry;

namespace CsFutures.Interop.Bridge;

/// <summary>The entry points of the thread pool (<c>ThreadPoolExecutor</c> and its threads) and of the interpreter pool (see <see cref="NativeEntryPoints"/>).</summary>
public static unsafe partial class NativeEntryPoints
{
    /// <summary>py: a thread pool for Python work (<paramref name="initializer"/> None for none).</summary>
    private static IntPtr ExecutorNew(int maxWorkers, IntPtr threadNamePrefix, IntPtr initializer)
    {
        try
        {
            var (prefix, init) = ReadPoolArguments(maxWorkers, threadNamePrefix, initializer);
            var options = PythonThreads.Options(PythonThreads.SubmitBacklog(maxWorkers));
            return Handles.New(new ThreadPoolExecutor(maxWorkers, prefix, init, options));
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>The arguments both thread-pool constructors share, checked as CPython checks them: a
    /// <c>ValueError</c> with CPython's exact message for <c>max_workers &lt;= 0</c> (the engine's own
    /// check adds .NET's parameter suffix), the prefix (None: the default) and the initializer.</summary>
    private static (string? Prefix, Action? Initializer) ReadPoolArguments(int maxWorkers, IntPtr threadNamePrefix, IntPtr initializer)
    {
        if (maxWorkers <= 0)
        {
            throw new ArgumentException(FuturesMessages.MaxWorkersNotPositive);
        }
        threadNamePrefix = PyApi.NullIfNone(threadNamePrefix);
        initializer = PyApi.NullIfNone(initializer);
        string? prefix = threadNamePrefix == IntPtr.Zero ? null : PyApi.ReadString(threadNamePrefix)
            ?? throw new ArgumentException("thread_name_prefix must be a str");
        Action? init = initializer == IntPtr.Zero ? null : PythonCallables.ToAction(initializer);
        return (prefix, init);
    }

    /// <summary>py: <c>InterpreterPoolExecutor(max_workers, thread_name_prefix, initializer)</c>
    /// (Python 3.14's <c>concurrent.futures.InterpreterPoolExecutor</c>): a thread pool whose workers
    /// each own an isolated subinterpreter, which runs <paramref name="bootstrap"/> (Python source
    /// defining <c>run(body) -> bytes</c>) when created. The pool's handle is a
    /// <see cref="ThreadPoolExecutor"/>, used with the <c>executor_*</c> entries.</summary>
    private static IntPtr InterpreterPoolNew(int maxWorkers, IntPtr threadNamePrefix, IntPtr initializer, IntPtr bootstrap)
    {
        try
        {
            if (!SubInterpreter.Supported)
            {
                throw SubInterpreter.NotSupported();
            }
            var (prefix, init) = ReadPoolArguments(maxWorkers, threadNamePrefix, initializer);
            string code = PyApi.ReadString(bootstrap) ?? throw new ArgumentException("bootstrap must be a str");
            var options = PythonThreads.InterpreterOptions(code, PythonThreads.SubmitBacklog(maxWorkers));
            return Handles.New(new ThreadPoolExecutor(maxWorkers, prefix, init, options));
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>py: on an interpreter-pool worker, runs the pickled call <paramref name="payload"/>
    /// (bytes) in the worker's subinterpreter with the caller's GIL released, and returns the reply
    /// (bytes) that the subinterpreter's <c>run</c> produced.</summary>
    private static IntPtr InterpreterRun(IntPtr payload)
    {
        try
        {
            byte* data;
            nint size;
            if (PyApi.PyBytes_AsStringAndSize(payload, &data, &size) != 0)
            {
                PyApi.PyErr_Clear();
                throw new ArgumentException("interpreter_run: the payload must be bytes");
            }
            byte[] reply;
            // The caller keeps payload alive; its buffer is read, never its reference count.
            IntPtr main = PyApi.PyEval_SaveThread();
            try
            {
                reply = SubInterpreter.Run(data, size);
            }
            finally
            {
                PyApi.PyEval_RestoreThread(main);
            }
            return PyApi.NewBytes(reply);
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>py: <c>submit(fn, *args, **kwargs)</c>; returns the new future's handle.</summary>
    private static IntPtr ExecutorSubmit(IntPtr handle, IntPtr fn, IntPtr args, IntPtr kwargs)
    {
        try
        {
            var executor = Handles.Get<Executor>(handle);
            var future = new Future<PyRef>();
            var item = new PythonCallWorkItem(future, fn, args, PyApi.NullIfNone(kwargs));
            try
            {
                executor.SubmitWorkItem(item);
            }
            catch
            {
                item.Release(); // refused (shut down, broken): it holds its references until run or dropped
                throw;
            }
            return Handles.New(future);
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>py: the non-blocking part of <c>shutdown</c>; the wait is <see cref="ExecutorJoin"/>.</summary>
    private static int ExecutorShutdown(IntPtr handle, int cancelFutures)
    {
        try
        {
            Handles.Get<Executor>(handle).Shutdown(wait: false, cancelFutures: cancelFutures != 0);
            return 0;
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, -1);
        }
    }

    /// <summary>wait: 1 when every worker thread has exited.</summary>
    private static int ExecutorJoin(IntPtr handle, double seconds)
    {
        try
        {
            return Handles.Get<ThreadPoolExecutor>(handle).Join(TimeSpan.FromSeconds(seconds)) ? 1 : 0;
        }
        catch (Exception ex)
        {
            return BridgeErrors.WaitFailed(ex);
        }
    }

    /// <summary>py: what <see cref="ExecutorInfo"/> selects.</summary>
    private static long ExecutorInfoOf(IntPtr handle, int what)
    {
        try
        {
            var executor = Handles.Get<ThreadPoolExecutor>(handle);
            return (ExecutorInfo)what switch
            {
                ExecutorInfo.MaxWorkers => executor.MaxWorkers,
                ExecutorInfo.ThreadCount => executor.Threads.Count,
                ExecutorInfo.QueuedCount => executor.QueuedCount,
                ExecutorInfo.IsShutdown => executor.IsShutdown ? 1 : 0,
                ExecutorInfo.IsBroken => executor.Broken is null ? 0 : 1,
                _ => throw new ArgumentOutOfRangeException(nameof(what), what, "not an ExecutorInfo selector"),
            };
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, -1L);
        }
    }

    /// <summary>py: a handle to worker thread number <paramref name="index"/>, or NULL (no error).</summary>
    private static IntPtr ExecutorThread(IntPtr handle, int index)
    {
        try
        {
            var threads = Handles.Get<ThreadPoolExecutor>(handle).Threads;
            return index >= 0 && index < threads.Count ? Handles.New(threads.ElementAt(index)) : IntPtr.Zero;
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>py: <c>executor.stats()</c> of a thread pool or a process pool: a new dict of
    /// <see cref="ExecutorStats"/> (<c>name</c>, <c>submitted</c>, <c>completed</c>, <c>failed</c>,
    /// <c>cancelled</c>, <c>queued</c>, <c>workers</c>, and for a process pool <c>worker_starts</c>,
    /// <c>worker_deaths</c>, <c>worker_restarts</c>).</summary>
    private static IntPtr ExecutorStatsOf(IntPtr handle)
    {
        try
        {
            var (stats, processes) = Handles.Target(handle) switch
            {
                ThreadPoolExecutor e => (e.Stats(), false),
                PythonProcessPool p => (p.Engine.Stats(), true),
                var other => throw new InvalidCastException($"cs_futures: a {other.GetType().Name} has no stats"),
            };
            (string, object?)[] fields =
            [
                ("name", stats.Name), ("submitted", stats.Submitted), ("completed", stats.Completed),
                ("failed", stats.Failed), ("cancelled", stats.Cancelled), ("queued", stats.Queued),
                ("workers", stats.Workers),
            ];
            if (processes)
            {
                fields = [.. fields, ("worker_starts", stats.WorkerStarts), ("worker_deaths", stats.WorkerDeaths),
                    ("worker_restarts", stats.WorkerRestarts)];
            }
            return NewDict(fields);
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>A new dict of <paramref name="fields"/>: each value a <c>long</c> (an int), a string
    /// (a str) or null (None), converted as it is set.</summary>
    internal static IntPtr NewDict((string Key, object? Value)[] fields)
    {
        IntPtr dict = PyApi.PyDict_New();
        try
        {
            foreach (var (key, value) in fields)
            {
                SetItem(dict, key, value switch
                {
                    null => PyApi.NewRef(PyApi.None),
                    string text => PyApi.NewString(text),
                    long number => PyApi.PyLong_FromLongLong(number),
                    _ => throw new ArgumentException($"{key}: a stats value is a long, a string or null"),
                });
            }
        }
        catch
        {
            PyApi.Py_DecRef(dict);
            throw;
        }
        return dict;
    }

    /// <summary>Sets <paramref name="dict"/>[<paramref name="key"/>] to <paramref name="value"/> (a new
    /// reference, consumed).</summary>
    private static void SetItem(IntPtr dict, string key, IntPtr value)
    {
        IntPtr name = PyApi.NewString(key);
        try
        {
            if (value == IntPtr.Zero || PyApi.PyDict_SetItem(dict, name, value) != 0)
            {
                throw new InvalidOperationException($"cannot set {key} in the stats dict");
            }
        }
        finally
        {
            PyApi.Py_DecRef(name);
            PyApi.Py_DecRef(value);
        }
    }

    /// <summary>py: why a thread pool or a process pool is broken (the engine's text, CPython's
    /// <c>_broken</c>), or None.</summary>
    private static IntPtr BrokenReason(IntPtr handle)
    {
        try
        {
            string? reason = Handles.Target(handle) switch
            {
                ThreadPoolExecutor executor => executor.Broken,
                PythonProcessPool pool => pool.Engine.Broken,
                var other => throw new InvalidCastException($"cs_futures: a {other.GetType().Name} has no broken state"),
            };
            return reason is null ? PyApi.NewRef(IntPtr.Zero) : PyApi.NewString(reason);
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>wait: 1 when the thread has exited.</summary>
    private static int ThreadJoin(IntPtr handle, double seconds)
    {
        try
        {
            return Handles.Get<WorkerThread>(handle).Join(TimeSpan.FromSeconds(seconds)) ? 1 : 0;
        }
        catch (Exception ex)
        {
            return BridgeErrors.WaitFailed(ex);
        }
    }
}
