using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CsFutures.Interop.CPython;
using CsFutures.Interop.Processes;

namespace CsFutures.Interop.Bridge;

/// <summary>
/// The C entry points that the Python package calls through <c>ctypes</c>: the hot path of
/// <c>cs_futures</c> (submit, result, done, wait) without pythonnet's method binding.
/// </summary>
/// <remarks>
/// Two kinds, as the Python side declares them (<c>cs_futures/_bridge.py</c>):
/// <list type="bullet">
/// <item>"py" entries are called with the GIL held (<c>ctypes.PYFUNCTYPE</c>); they may raise a Python
/// exception by setting the error indicator, and return -1 or NULL then. They never block.</item>
/// <item>"wait" entries are called with the GIL released (<c>ctypes.CFUNCTYPE</c>); they block for at
/// most the slice they are given, so that Python can handle signals between calls. They never touch
/// Python objects.</item>
/// </list>
/// The order of <see cref="Table"/> is the contract with the Python side.
/// </remarks>
public static unsafe class NativeEntryPoints
{
    /// <summary>Bumped when an entry point changes; the Python side checks it.</summary>
    public const int Version = 2;

    /// <summary>The entry points' addresses, in the order the Python package expects.</summary>
    public static long[] Table() =>
    [
        (long)(delegate* unmanaged<IntPtr, IntPtr, int>)&Configure,
        (long)(delegate* unmanaged<IntPtr>)&FutureNew,
        (long)(delegate* unmanaged<IntPtr, int, void>)&HandleFree,
        (long)(delegate* unmanaged<IntPtr, int>)&FutureState,
        (long)(delegate* unmanaged<IntPtr, int>)&FutureCancel,
        (long)(delegate* unmanaged<IntPtr, int>)&FutureSetRunningOrNotifyCancel,
        (long)(delegate* unmanaged<IntPtr, int, IntPtr, int>)&FutureSet,
        (long)(delegate* unmanaged<IntPtr, int, IntPtr>)&FutureOutcome,
        (long)(delegate* unmanaged<IntPtr, IntPtr, int>)&FutureAddDoneCallback,
        (long)(delegate* unmanaged<IntPtr, int, int, IntPtr, int>)&FutureForce,
        (long)(delegate* unmanaged<IntPtr, void>)&FutureNotifyAll,
        (long)(delegate* unmanaged<IntPtr, double, int>)&FutureWait,
        (long)(delegate* unmanaged<IntPtr*, int, double, int, byte*, int>)&WaitMany,
        (long)(delegate* unmanaged<IntPtr*, int, IntPtr>)&CursorNew,
        (long)(delegate* unmanaged<IntPtr, double, int>)&CursorNext,
        (long)(delegate* unmanaged<int, IntPtr, IntPtr, IntPtr>)&ExecutorNew,
        (long)(delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, IntPtr>)&ExecutorSubmit,
        (long)(delegate* unmanaged<IntPtr, int, int>)&ExecutorShutdown,
        (long)(delegate* unmanaged<IntPtr, double, int>)&ExecutorJoin,
        (long)(delegate* unmanaged<IntPtr, int, long>)&ExecutorInfo,
        (long)(delegate* unmanaged<IntPtr, int, IntPtr>)&ExecutorThread,
        (long)(delegate* unmanaged<IntPtr, double, int>)&ThreadJoin,
        (long)(delegate* unmanaged<int>)&GetVersion,
        (long)(delegate* unmanaged<IntPtr, IntPtr, IntPtr>)&ProcessPoolNew,
        (long)(delegate* unmanaged<IntPtr, IntPtr, double, IntPtr>)&ProcessPoolSubmit,
        (long)(delegate* unmanaged<IntPtr, int, int, int>)&ProcessPoolShutdown,
        (long)(delegate* unmanaged<IntPtr, double, int>)&ProcessPoolJoin,
        (long)(delegate* unmanaged<IntPtr, int, long>)&ProcessPoolInfo,
        (long)(delegate* unmanaged<IntPtr, IntPtr>)&ProcessPoolWorkers,
        (long)(delegate* unmanaged<IntPtr, int, int, long>)&ProcessWorkerOp,
        (long)(delegate* unmanaged<IntPtr, int, double, int>)&ProcessWorkerJoin,
    ];

    [UnmanagedCallersOnly]
    private static int GetVersion() => Version;

    /// <summary>Writes up to <paramref name="count"/> entry point addresses into
    /// <paramref name="table"/> and returns how many exist: the one function that the Python package
    /// looks up through hostfxr (<c>load_assembly_and_get_function_pointer</c>).</summary>
    [UnmanagedCallersOnly]
    public static int Bootstrap(IntPtr table, int count)
    {
        long[] entries = Table();
        for (int i = 0; i < Math.Min(count, entries.Length); i++)
        {
            ((long*)table)[i] = entries[i];
        }
        return entries.Length;
    }

    /// <summary>py: resolves the C API from the interpreter handle and keeps the configuration tuple.</summary>
    [UnmanagedCallersOnly]
    private static int Configure(IntPtr pythonLibrary, IntPtr config)
    {
        try
        {
            PyApi.Load(pythonLibrary);
            PythonBridge.Configure(config);
            // While the import goes on: a worker thread for the first submit, and its code made ready.
            ParkedThreads.PrepareSpare();
            StartupWarmUp.Start();
            return 0;
        }
        catch (Exception ex)
        {
            // Without the exception classes, report through stderr and a failure code.
            Console.Error.WriteLine($"cs_futures: configuring the .NET bridge failed: {ex}");
            return -1;
        }
    }

    [UnmanagedCallersOnly]
    private static IntPtr FutureNew() => Handles.New(new Future<PyRef>());

    /// <summary>py: frees a handle; <paramref name="releaseValues"/> also releases a done future's
    /// Python values now (Python held the only way to reach them).</summary>
    [UnmanagedCallersOnly]
    private static void HandleFree(IntPtr handle, int releaseValues)
    {
        object? target = Handles.Target(handle);
        if (releaseValues != 0 && target is Future future)
        {
            PythonFutureOps.ReleaseValues(future);
        }
        (target as Cursor)?.Dispose(); // never an executor: its Dispose waits for workers that need the GIL
        Handles.Free(handle);
    }

    [UnmanagedCallersOnly]
    private static int FutureState(IntPtr handle) => (int)Handles.Get<Future>(handle).State;

    [UnmanagedCallersOnly]
    private static int FutureCancel(IntPtr handle) => Guard(() => Handles.Get<Future>(handle).Cancel() ? 1 : 0);

    [UnmanagedCallersOnly]
    private static int FutureSetRunningOrNotifyCancel(IntPtr handle) =>
        Guard(() => Handles.Get<Future>(handle).SetRunningOrNotifyCancel() ? 1 : 0);

    /// <summary>py: <c>set_result</c> (0) or <c>set_exception</c> (1).</summary>
    [UnmanagedCallersOnly]
    private static int FutureSet(IntPtr handle, int which, IntPtr value) => Guard(() =>
    {
        var future = Handles.Get<Future>(handle);
        if (which == 0)
        {
            PythonFutureOps.SetResult(future, value);
        }
        else
        {
            PythonFutureOps.SetException(future, value);
        }
        return 0;
    });

    /// <summary>py: the outcome (a new reference, as ctypes' py_object expects) or a marker; None
    /// for exception() of a future that did not raise.</summary>
    [UnmanagedCallersOnly]
    private static IntPtr FutureOutcome(IntPtr handle, int which) =>
        PyApi.NewRef(PythonFutureOps.Outcome(Handles.Get<Future>(handle), which));

    [UnmanagedCallersOnly]
    private static int FutureAddDoneCallback(IntPtr handle, IntPtr callable) => Guard(() =>
    {
        PythonFutureOps.AddDoneCallback(Handles.Get<Future>(handle), callable);
        return 0;
    });

    [UnmanagedCallersOnly]
    private static int FutureForce(IntPtr handle, int which, int state, IntPtr value) => Guard(() =>
    {
        PythonFutureOps.Force(Handles.Get<Future>(handle), which, state, value);
        return 0;
    });

    [UnmanagedCallersOnly]
    private static void FutureNotifyAll(IntPtr handle) => Handles.Get<Future>(handle).NotifyAll();

    /// <summary>wait: blocks up to <paramref name="seconds"/> for the future to be done; 1 if done.</summary>
    [UnmanagedCallersOnly]
    private static int FutureWait(IntPtr handle, double seconds) =>
        Handles.Get<Future>(handle).Wait(TimeSpan.FromSeconds(seconds)) ? 1 : 0;

    /// <summary>wait: one slice of <c>concurrent.futures.wait</c>; fills <paramref name="doneMask"/>
    /// and returns 1 when the return condition holds.</summary>
    [UnmanagedCallersOnly]
    private static int WaitMany(IntPtr* handles, int count, double seconds, int returnWhen, byte* doneMask)
    {
        var fs = new Future[count];
        for (int i = 0; i < count; i++)
        {
            fs[i] = Handles.Get<Future>(handles[i]);
        }
        var rw = (ReturnWhen)returnWhen;
        var (done, _) = Futures.Wait(fs, TimeSpan.FromSeconds(seconds), rw);
        bool anyException = false;
        for (int i = 0; i < count; i++)
        {
            bool isDone = done.Contains(fs[i]);
            doneMask[i] = isDone ? (byte)1 : (byte)0;
            anyException |= isDone && fs[i].FinishedWithException;
        }
        bool allDone = done.Count == fs.Distinct().Count();
        return rw switch
        {
            ReturnWhen.FirstCompleted => done.Count > 0,
            ReturnWhen.FirstException => anyException || allDone,
            _ => allDone,
        } ? 1 : 0;
    }

    /// <summary>py: starts an <c>as_completed</c> iteration over distinct futures.</summary>
    [UnmanagedCallersOnly]
    private static IntPtr CursorNew(IntPtr* handles, int count)
    {
        var fs = new List<IndexedFuture>(count);
        for (int i = 0; i < count; i++)
        {
            fs.Add(new IndexedFuture(Handles.Get<Future>(handles[i]), i));
        }
        return Handles.New(new Cursor(fs));
    }

    /// <summary>wait: the index of the next completed future, -1 if none in the slice, -2 when all
    /// were yielded.</summary>
    [UnmanagedCallersOnly]
    private static int CursorNext(IntPtr handle, double seconds)
    {
        var cursor = Handles.Get<Cursor>(handle);
        if (cursor.Inner.TryNext(TimeSpan.FromSeconds(seconds), out var next))
        {
            return cursor.IndexOf(next!);
        }
        return cursor.Inner.Exhausted ? -2 : -1;
    }

    /// <summary>py: a thread pool for Python work (<paramref name="initializer"/> NULL for none).</summary>
    [UnmanagedCallersOnly]
    private static IntPtr ExecutorNew(int maxWorkers, IntPtr threadNamePrefix, IntPtr initializer)
    {
        try
        {
            threadNamePrefix = PyApi.NullIfNone(threadNamePrefix);
            initializer = PyApi.NullIfNone(initializer);
            string? prefix = threadNamePrefix == IntPtr.Zero ? null : PyApi.ReadString(threadNamePrefix);
            Action? init = initializer == IntPtr.Zero ? null : PythonCallables.ToAction(initializer);
            var options = PythonThreads.Options(PythonThreads.SubmitBacklog(maxWorkers));
            return Handles.New(new ThreadPoolExecutor(maxWorkers, prefix, init, options));
        }
        catch (Exception ex)
        {
            PyErr.Raise(ex);
            return IntPtr.Zero;
        }
    }

    /// <summary>py: <c>submit(fn, *args, **kwargs)</c>; returns the new future's handle.</summary>
    [UnmanagedCallersOnly]
    private static IntPtr ExecutorSubmit(IntPtr handle, IntPtr fn, IntPtr args, IntPtr kwargs)
    {
        try
        {
            var future = new Future<PyRef>();
            Handles.Get<Executor>(handle).SubmitWorkItem(new PythonCallWorkItem(future, fn, args, PyApi.NullIfNone(kwargs)));
            return Handles.New(future);
        }
        catch (Exception ex)
        {
            PyErr.Raise(ex);
            return IntPtr.Zero;
        }
    }

    /// <summary>py: the non-blocking part of <c>shutdown</c>; the wait is <see cref="ExecutorJoin"/>.</summary>
    [UnmanagedCallersOnly]
    private static int ExecutorShutdown(IntPtr handle, int cancelFutures) => Guard(() =>
    {
        Handles.Get<Executor>(handle).Shutdown(wait: false, cancelFutures: cancelFutures != 0);
        return 0;
    });

    /// <summary>wait: 1 when every worker thread has exited.</summary>
    [UnmanagedCallersOnly]
    private static int ExecutorJoin(IntPtr handle, double seconds) =>
        Handles.Get<ThreadPoolExecutor>(handle).Join(TimeSpan.FromSeconds(seconds)) ? 1 : 0;

    /// <summary>py: 0 max workers, 1 threads started, 2 queued items, 3 shut down, 4 broken.</summary>
    [UnmanagedCallersOnly]
    private static long ExecutorInfo(IntPtr handle, int what)
    {
        var executor = Handles.Get<ThreadPoolExecutor>(handle);
        return what switch
        {
            0 => executor.MaxWorkers,
            1 => executor.Threads.Count,
            2 => executor.QueuedCount,
            3 => executor.IsShutdown ? 1 : 0,
            _ => executor.Broken is null ? 0 : 1,
        };
    }

    /// <summary>py: a handle to worker thread number <paramref name="index"/>, or NULL.</summary>
    [UnmanagedCallersOnly]
    private static IntPtr ExecutorThread(IntPtr handle, int index)
    {
        var threads = Handles.Get<ThreadPoolExecutor>(handle).Threads;
        return index < threads.Count ? Handles.New(threads.ElementAt(index)) : IntPtr.Zero;
    }

    /// <summary>wait: 1 when the thread has exited.</summary>
    [UnmanagedCallersOnly]
    private static int ThreadJoin(IntPtr handle, double seconds)
    {
        return Handles.Get<WorkerThread>(handle).Join(TimeSpan.FromSeconds(seconds)) ? 1 : 0;
    }

    /// <summary>py: a process pool for pickled Python calls; <paramref name="decoder"/> is the package's
    /// <c>_decode(kind, data)</c>.</summary>
    [UnmanagedCallersOnly]
    private static IntPtr ProcessPoolNew(IntPtr config, IntPtr decoder)
    {
        try
        {
            var options = PythonProcessPool.ReadOptions(config);
            return Handles.New(new PythonProcessPool(options, PyRef.Borrow(decoder)));
        }
        catch (Exception ex)
        {
            PyErr.Raise(ex);
            return IntPtr.Zero;
        }
    }

    /// <summary>py: submits a pickled call (bytes); <paramref name="timeout"/> in seconds, 0 for the
    /// pool's default. Returns the future's handle.</summary>
    [UnmanagedCallersOnly]
    private static IntPtr ProcessPoolSubmit(IntPtr handle, IntPtr payload, double timeout)
    {
        try
        {
            var pool = Handles.Get<PythonProcessPool>(handle);
            byte[] bytes = Runtime.PythonConvert.FromPython<byte[]>(payload);
            return Handles.New(pool.Submit(bytes, timeout > 0 ? TimeSpan.FromSeconds(timeout) : null));
        }
        catch (Exception ex)
        {
            PyErr.Raise(ex);
            return IntPtr.Zero;
        }
    }

    /// <summary>py: mode 0 <c>shutdown(wait=False)</c>, 1 <c>terminate_workers()</c>, 2 <c>kill_workers()</c>.</summary>
    [UnmanagedCallersOnly]
    private static int ProcessPoolShutdown(IntPtr handle, int cancelFutures, int mode) => Guard(() =>
    {
        var engine = Handles.Get<PythonProcessPool>(handle).Engine;
        switch (mode)
        {
            case 1:
                engine.TerminateWorkers();
                break;
            case 2:
                engine.KillWorkers();
                break;
            default:
                engine.Shutdown(wait: false, cancelFutures: cancelFutures != 0);
                break;
        }
        return 0;
    });

    /// <summary>wait: 1 once the pool shut down and every worker exited.</summary>
    [UnmanagedCallersOnly]
    private static int ProcessPoolJoin(IntPtr handle, double seconds) =>
        Handles.Get<PythonProcessPool>(handle).Engine.Join(TimeSpan.FromSeconds(seconds)) ? 1 : 0;

    /// <summary>py: 0 max workers, 1 workers, 2 broken, 3 shut down, 4 queued tasks.</summary>
    [UnmanagedCallersOnly]
    private static long ProcessPoolInfo(IntPtr handle, int what)
    {
        var engine = Handles.Get<PythonProcessPool>(handle).Engine;
        return what switch
        {
            0 => engine.MaxWorkers,
            1 => engine.Workers.Count,
            2 => engine.Broken is null ? 0 : 1,
            3 => engine.IsShutdown ? 1 : 0,
            _ => engine.QueuedCount,
        };
    }

    /// <summary>py: a list of the current workers' pids.</summary>
    [UnmanagedCallersOnly]
    private static IntPtr ProcessPoolWorkers(IntPtr handle)
    {
        int[] pids = Handles.Get<PythonProcessPool>(handle).WorkerPids();
        IntPtr list = PyApi.PyList_New(pids.Length);
        for (int i = 0; i < pids.Length; i++)
        {
            PyApi.PyList_SetItem(list, i, PyApi.PyLong_FromLongLong(pids[i]));
        }
        return list;
    }

    /// <summary>py: for worker <paramref name="pid"/>: op 0 terminate, 1 kill (both return 0), 2 its exit
    /// code (-1000 while alive); -1001 for a pid the pool never listed.</summary>
    [UnmanagedCallersOnly]
    private static long ProcessWorkerOp(IntPtr handle, int pid, int op)
    {
        var worker = Handles.Get<PythonProcessPool>(handle).Worker(pid);
        if (worker is null)
        {
            return -1001;
        }
        switch (op)
        {
            case 0:
                worker.Terminate();
                return 0;
            case 1:
                worker.Kill();
                return 0;
            default:
                return worker.IsAlive ? -1000 : worker.ExitCode ?? -1001;
        }
    }

    /// <summary>wait: 1 once worker <paramref name="pid"/> has exited (or is unknown).</summary>
    [UnmanagedCallersOnly]
    private static int ProcessWorkerJoin(IntPtr handle, int pid, double seconds)
    {
        var worker = Handles.Get<PythonProcessPool>(handle).Worker(pid);
        return worker is null || worker.Join(TimeSpan.FromSeconds(seconds)) ? 1 : 0;
    }

    /// <summary>Runs a "py" entry's body; a .NET exception becomes the Python exception (-1).</summary>
    private static int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception ex)
        {
            PyErr.Raise(ex);
            return -1;
        }
    }

    private sealed record IndexedFuture(Future Future, int Index);

    private sealed class Cursor : IDisposable
    {
        private readonly Dictionary<Future, int> _index = new(ReferenceEqualityComparer.Instance);

        public Cursor(List<IndexedFuture> fs)
        {
            foreach (var f in fs)
            {
                _index.TryAdd(f.Future, f.Index);
            }
            Inner = new CompletionCursor<Future>(new HashSet<Future>(_index.Keys), new Waiter.AnyCompleted());
        }

        public CompletionCursor<Future> Inner { get; }

        public int IndexOf(Future future) => _index[future];

        public void Dispose() => Inner.Dispose();
    }
}
