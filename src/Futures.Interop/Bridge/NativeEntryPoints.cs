using System.Runtime.InteropServices;
using System.Text;
using CsFutures.Interop.CPython;
using CsFutures.Interop.Processes;

namespace CsFutures.Interop.Bridge;

/// <summary>
/// The C entry points that the Python package calls (as builtins of <c>cs_futures._engine</c>): the hot path of
/// <c>cs_futures</c> (submit, result, done, wait) without pythonnet's method binding.
/// </summary>
/// <remarks>
/// <para>The contract is by name. The package imports the entries as the extension module
/// <c>cs_futures._engine</c> (<see cref="EngineModule"/>: one builtin an entry; the runtime-hosted
/// package asks hostfxr for <see cref="CreateModule"/>), which also holds <see cref="Description"/>: the version, then each entry's name, kind
/// (<see cref="EntryKind"/>), signature and address, then the selector enums and the messages both
/// sides use. The package uses each entry by name, and the module converts its arguments by the
/// signature, so neither side keeps a positional table or a number in step by hand.</para>
/// <para>Signatures are <c>return:parameters</c>, one letter a value: <c>h</c> a handle
/// (<see cref="Handles"/>) or other native pointer, <c>o</c> a Python object (a borrowed reference;
/// as a return, a new one), <c>i</c> int32, <c>q</c> int64, <c>d</c> double, <c>p</c> an array of
/// handles, <c>b</c> a byte buffer.</para>
/// <para>Each entry is a plain static method, called by <see cref="EngineModule"/> through a managed
/// function pointer (no transition out of .NET and back in). No exception leaves an entry: one that
/// escaped would reach CPython's C code. "py" entries raise it as a Python exception (see <see cref="BridgeErrors"/>);
/// "wait" entries return <see cref="EntryCode.Failed"/> and keep it for <c>last_error</c>. A handle
/// that was freed or never issued is such an exception, not a crash.</para>
/// </remarks>
public static unsafe partial class NativeEntryPoints
{
    /// <summary>Bumped when an entry point changes meaning; the Python package checks it.</summary>
    public const int Version = 5;

    /// <summary>One entry point: its Python name, how it is called, its signature and method.</summary>
    /// <param name="Name">The name the Python package looks up (<c>snake_case</c>).</param>
    /// <param name="Kind">With or without the GIL.</param>
    /// <param name="Signature"><c>return:parameters</c> (see the class remarks).</param>
    /// <param name="Address">The method, as a managed function pointer (<c>delegate*&lt;...&gt;</c>).</param>
    /// <param name="Method">The C# method's name, for the tests.</param>
    /// <param name="LooksWithGil">A "wait" entry over futures (their state, a wait or an
    /// <c>as_completed</c> cursor) that, called with 0 seconds, is a look that cannot block, and keeps
    /// the GIL then (<see cref="EngineModule"/>): what it locks is never held by a thread that waits
    /// for the GIL.</param>
    public sealed record Entry(string Name, EntryKind Kind, string Signature, IntPtr Address, string Method,
        bool LooksWithGil = false)
    {
        /// <summary>The type that declares <see cref="Method"/>: <see cref="NativeEntryPoints"/>, or the
        /// type that added the entry (<see cref="AddEntries"/>).</summary>
        public Type Owner { get; init; } = typeof(NativeEntryPoints);
    }

    internal static Entry Py(string name, string signature, void* address, string method) =>
        new(name, EntryKind.Py, signature, (IntPtr)address, method);

    internal static Entry Wait(string name, string signature, void* address, string method) =>
        new(name, EntryKind.Wait, signature, (IntPtr)address, method);

    private static Entry Look(string name, string signature, void* address, string method) =>
        new(name, EntryKind.Wait, signature, (IntPtr)address, method, LooksWithGil: true);

    private static readonly Lock s_addedLock = new();
    private static Entry[] s_added = [];

    /// <summary>Every entry point (<see cref="CreateModule"/> aside): this assembly's, then those another
    /// assembly added (<see cref="AddEntries"/>).</summary>
    public static IReadOnlyList<Entry> Entries() => [.. OwnEntries(), .. Volatile.Read(ref s_added)];

    /// <summary>Adds the entries of another assembly, declared by <paramref name="owner"/>, to the
    /// runtime-hosted module: the cluster's (<c>CsFutures.Interop.Cluster.Bridge.ClusterEntryPoints</c>,
    /// whose <c>CreateModule</c> adds them, then makes the module). The module's builtins are the entries
    /// at the time it is made (once a process), so this comes first. Adding the same owner again does
    /// nothing; a name already taken is an <see cref="InvalidOperationException"/>.</summary>
    internal static void AddEntries(Type owner, IEnumerable<Entry> entries)
    {
        lock (s_addedLock)
        {
            if (s_added.Any(e => e.Owner == owner))
            {
                return;
            }
            var taken = Entries().Select(e => e.Name).ToHashSet();
            var added = entries.Select(e => e with { Owner = owner }).ToArray();
            foreach (var entry in added)
            {
                if (!taken.Add(entry.Name))
                {
                    throw new InvalidOperationException($"{owner.Name}: the bridge already has an entry named {entry.Name}");
                }
            }
            Volatile.Write(ref s_added, [.. s_added, .. added]);
        }
    }

    /// <summary>This assembly's entry points: the natively compiled library's, and the runtime-hosted
    /// module's before the cluster's are added.</summary>
    private static IReadOnlyList<Entry> OwnEntries() =>
    [
        Py("configure", "i:ho", (delegate*<IntPtr, IntPtr, int>)&Configure, nameof(Configure)),
        Py("last_error", "i:", (delegate*<int>)&LastError, nameof(LastError)),
        Wait("get_version", "i:", (delegate*<int>)&GetVersion, nameof(GetVersion)),
        Py("handle_free", "i:hi", (delegate*<IntPtr, int, int>)&HandleFree, nameof(HandleFree)),
        Py("handle_copy", "h:h", (delegate*<IntPtr, IntPtr>)&HandleCopy, nameof(HandleCopy)),
        Py("future_new", "h:", (delegate*<IntPtr>)&FutureNew, nameof(FutureNew)),
        Py("future_state", "i:h", (delegate*<IntPtr, int>)&FutureState, nameof(FutureState)),
        Py("future_cancel", "i:h", (delegate*<IntPtr, int>)&FutureCancel, nameof(FutureCancel)),
        Py("future_set_running_or_notify_cancel", "i:h", (delegate*<IntPtr, int>)&FutureSetRunningOrNotifyCancel, nameof(FutureSetRunningOrNotifyCancel)),
        Py("future_set", "i:hio", (delegate*<IntPtr, int, IntPtr, int>)&FutureSet, nameof(FutureSet)),
        Py("future_outcome", "o:hi", (delegate*<IntPtr, int, IntPtr>)&FutureOutcome, nameof(FutureOutcome)),
        Py("future_add_done_callback", "i:ho", (delegate*<IntPtr, IntPtr, int>)&FutureAddDoneCallback, nameof(FutureAddDoneCallback)),
        Py("future_force", "i:hiio", (delegate*<IntPtr, int, int, IntPtr, int>)&FutureForce, nameof(FutureForce)),
        Py("future_notify_all", "i:h", (delegate*<IntPtr, int>)&FutureNotifyAll, nameof(FutureNotifyAll)),
        Py("future_add_waiter", "h:ho", (delegate*<IntPtr, IntPtr, IntPtr>)&FutureAddWaiter, nameof(FutureAddWaiter)),
        Py("future_remove_waiter", "i:hh", (delegate*<IntPtr, IntPtr, int>)&FutureRemoveWaiter, nameof(FutureRemoveWaiter)),
        Look("future_wait", "i:hd", (delegate*<IntPtr, double, int>)&FutureWait, nameof(FutureWait)),
        Py("wait_new", "h:piib", (delegate*<IntPtr*, int, int, byte*, IntPtr>)&WaitNew, nameof(WaitNew)),
        Look("wait_next", "i:hbd", (delegate*<IntPtr, byte*, double, int>)&WaitNext, nameof(WaitNext)),
        Py("cursor_new", "h:pi", (delegate*<IntPtr*, int, IntPtr>)&CursorNew, nameof(CursorNew)),
        Look("cursor_next", "i:hd", (delegate*<IntPtr, double, int>)&CursorNext, nameof(CursorNext)),
        Py("executor_new", "h:ioo", (delegate*<int, IntPtr, IntPtr, IntPtr>)&ExecutorNew, nameof(ExecutorNew)),
        Py("executor_submit", "h:hooo", (delegate*<IntPtr, IntPtr, IntPtr, IntPtr, IntPtr>)&ExecutorSubmit, nameof(ExecutorSubmit)),
        Py("executor_shutdown", "i:hi", (delegate*<IntPtr, int, int>)&ExecutorShutdown, nameof(ExecutorShutdown)),
        Wait("executor_join", "i:hd", (delegate*<IntPtr, double, int>)&ExecutorJoin, nameof(ExecutorJoin)),
        Py("executor_info", "q:hi", (delegate*<IntPtr, int, long>)&ExecutorInfoOf, nameof(ExecutorInfoOf)),
        Py("executor_thread", "h:hi", (delegate*<IntPtr, int, IntPtr>)&ExecutorThread, nameof(ExecutorThread)),
        Py("executor_stats", "o:h", (delegate*<IntPtr, IntPtr>)&ExecutorStatsOf, nameof(ExecutorStatsOf)),
        Py("broken_reason", "o:h", (delegate*<IntPtr, IntPtr>)&BrokenReason, nameof(BrokenReason)),
        Wait("thread_join", "i:hd", (delegate*<IntPtr, double, int>)&ThreadJoin, nameof(ThreadJoin)),
        Py("interpreter_pool_new", "h:iooo", (delegate*<int, IntPtr, IntPtr, IntPtr, IntPtr>)&InterpreterPoolNew, nameof(InterpreterPoolNew)),
        Py("interpreter_run", "o:o", (delegate*<IntPtr, IntPtr>)&InterpreterRun, nameof(InterpreterRun)),
        Py("process_pool_new", "h:oo", (delegate*<IntPtr, IntPtr, IntPtr>)&ProcessPoolNew, nameof(ProcessPoolNew)),
        Py("process_pool_submit", "h:hod", (delegate*<IntPtr, IntPtr, double, IntPtr>)&ProcessPoolSubmit, nameof(ProcessPoolSubmit)),
        Py("process_pool_shutdown", "i:hii", (delegate*<IntPtr, int, int, int>)&ProcessPoolShutdown, nameof(ProcessPoolShutdown)),
        Wait("process_pool_join", "i:hd", (delegate*<IntPtr, double, int>)&ProcessPoolJoin, nameof(ProcessPoolJoin)),
        Py("process_pool_info", "q:hi", (delegate*<IntPtr, int, long>)&ProcessPoolInfoOf, nameof(ProcessPoolInfoOf)),
        Py("process_pool_workers", "o:h", (delegate*<IntPtr, IntPtr>)&ProcessPoolWorkers, nameof(ProcessPoolWorkers)),
        Py("process_worker_op", "q:hii", (delegate*<IntPtr, int, int, long>)&ProcessWorkerOp, nameof(ProcessWorkerOp)),
        Wait("process_worker_join", "i:hid", (delegate*<IntPtr, int, double, int>)&ProcessWorkerJoin, nameof(ProcessWorkerJoin)),
        Wait("test_stress", "i:ii", (delegate*<int, int, int>)&TestStress, nameof(TestStress)), // for the tests
    ];

    /// <summary>The enums whose members the Python package reads by name (<c>_bridge.FutureState.Pending</c>...).</summary>
    public static IReadOnlyList<Type> SharedEnums { get; } =
    [
        typeof(CsFutures.FutureState), typeof(ReturnWhen), typeof(ExecutorInfo), typeof(ProcessPoolInfo),
        typeof(PoolShutdown), typeof(WorkerOp), typeof(Outcome), typeof(ForceField), typeof(EntryCode),
        typeof(PythonBridge.Slot), // the items of configure's tuple, which the package orders by these values
    ];

    /// <summary>Messages that both the engine and the Python package show, by name
    /// (<c>_bridge.MESSAGES[name]</c>): one spelling, here.</summary>
    public static IReadOnlyDictionary<string, string> SharedMessages { get; } = new Dictionary<string, string>
    {
        [nameof(FuturesMessages.SubmitAfterShutdown)] = FuturesMessages.SubmitAfterShutdown,
        [nameof(FuturesMessages.MaxWorkersNotPositive)] = FuturesMessages.MaxWorkersNotPositive,
        [nameof(FuturesMessages.BuffersizeNotPositive)] = FuturesMessages.BuffersizeNotPositive,
        [nameof(FuturesMessages.MaxTasksPerChildNotPositive)] = FuturesMessages.MaxTasksPerChildNotPositive,
        ["ProcessTerminatedAbruptly"] = ProcessPoolExecutor.TerminatedAbruptlyMessage,
        ["ProcessPoolBroken"] = ProcessPoolExecutor.BrokenMessage,
    };

    /// <summary>The contract as text, one item a line, fields separated by tabs:
    /// <c>version N</c>; <c>entry name kind signature</c>; <c>enum Type Member value</c>;
    /// <c>message name text</c>. Read by <c>cs_futures/_loader.py</c>.</summary>
    public static string Description()
    {
        var text = new StringBuilder();
        var invariant = System.Globalization.CultureInfo.InvariantCulture; // no culture data to load at start-up
        text.Append("version\t").Append(Version.ToString(invariant)).Append('\n');
        foreach (var entry in Entries())
        {
            text.Append("entry\t").Append(entry.Name).Append('\t').Append(entry.Kind == EntryKind.Py ? "py" : "wait")
                .Append('\t').Append(entry.Signature).Append('\n');
        }
        foreach (var type in SharedEnums)
        {
            string[] names = Enum.GetNames(type);
            int[] values = (int[])Enum.GetValuesAsUnderlyingType(type); // every shared enum is an int
            for (int i = 0; i < names.Length; i++)
            {
                text.Append("enum\t").Append(type.Name).Append('\t').Append(names[i]).Append('\t').Append(values[i].ToString(invariant)).Append('\n');
            }
        }
        foreach (var (name, message) in SharedMessages)
        {
            text.Append("message\t").Append(name).Append('\t').Append(message).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>The one function the runtime-hosted package looks up through hostfxr
    /// (<c>load_assembly_and_get_function_pointer</c>) and calls once, through ctypes, with
    /// <c>ctypes.pythonapi._handle</c>: the bridge as the module <c>cs_futures._engine</c>
    /// (<see cref="EngineModule"/>), a new reference; NULL with a Python error set. The natively
    /// compiled library is imported as that module instead (<c>PyInit__engine</c>).</summary>
    [UnmanagedCallersOnly]
    public static IntPtr CreateModule(IntPtr pythonLibrary) => EngineModule.Create(pythonLibrary);

    /// <summary><see cref="CreateModule"/>'s address, for a package that loaded the assemblies through
    /// pythonnet (which has no hostfxr function pointers to ask).</summary>
    public static IntPtr ModuleFactory => (IntPtr)(delegate* unmanaged<IntPtr, IntPtr>)&CreateModule;

    /// <summary>wait: <see cref="Version"/> (also in the description; kept as an entry so that a
    /// package can check it before reading anything else). Nothing in it can throw.</summary>
    private static int GetVersion() => Version;

    /// <summary>py: raises the failure that the last "wait" entry on this thread reported with
    /// <see cref="EntryCode.Failed"/> (-1); 0 when there is none.</summary>
    private static int LastError()
    {
        try
        {
            return BridgeErrors.RaiseLastWaitError();
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, -1);
        }
    }

    /// <summary>py: resolves the C API from the interpreter handle and keeps the configuration tuple.</summary>
    private static int Configure(IntPtr pythonLibrary, IntPtr config)
    {
        try
        {
            if (!PyApi.Loaded)
            {
                if (pythonLibrary == IntPtr.Zero)
                {
                    // Without the C API, nothing can be raised in Python: report through stderr.
                    Console.Error.WriteLine("cs_futures: configuring the .NET bridge failed: no interpreter handle");
                    return -1;
                }
                PyApi.Load(pythonLibrary);
            }
            PythonBridge.Configure(config);
            // While the import goes on: a worker thread for the first submit, and its code made ready.
            ParkedThreads.PrepareSpare();
            StartupWarmUp.Start();
            return 0;
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, -1);
        }
    }

    /// <summary>py: a new pending future for Python's <c>Future()</c>.</summary>
    private static IntPtr FutureNew()
    {
        try
        {
            return Handles.New(new Future<PyRef>());
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>py: frees a handle; <paramref name="releaseValues"/> also releases a done future's
    /// Python values now when it was the object's last handle (Python held the only way to reach
    /// them). 0, or -1 for a bad handle.</summary>
    private static int HandleFree(IntPtr handle, int releaseValues)
    {
        try
        {
            object target = Handles.Target(handle);
            if (!Handles.Free(handle))
            {
                return 0; // a copy's handle is still live (copy.copy): the values stay
            }
            if (releaseValues != 0 && target is Future future)
            {
                PythonFutureOps.ReleaseValues(future);
            }
            (target as Cursor)?.Dispose(); // never an executor: its Dispose waits for workers that need the GIL
            (target as WaitCursor)?.Dispose();
            return 0;
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, -1);
        }
    }

    /// <summary>py: a second handle to the object behind <paramref name="handle"/> (for
    /// <c>copy.copy</c>: each Python object frees its own).</summary>
    private static IntPtr HandleCopy(IntPtr handle)
    {
        try
        {
            return Handles.Copy(handle);
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>py: the future's <see cref="CsFutures.FutureState"/>.</summary>
    private static int FutureState(IntPtr handle)
    {
        try
        {
            return (int)Handles.Get<Future>(handle).State;
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, -1);
        }
    }

    /// <summary>py: <c>cancel()</c>: 1 if cancelled.</summary>
    private static int FutureCancel(IntPtr handle)
    {
        try
        {
            return Handles.Get<Future>(handle).Cancel() ? 1 : 0;
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, -1);
        }
    }

    /// <summary>py: <c>set_running_or_notify_cancel()</c>: 1 if now running, 0 if cancelled.</summary>
    private static int FutureSetRunningOrNotifyCancel(IntPtr handle)
    {
        try
        {
            return Handles.Get<Future>(handle).SetRunningOrNotifyCancel() ? 1 : 0;
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, -1);
        }
    }

    /// <summary>py: <c>set_result</c> or <c>set_exception</c> (<see cref="Outcome"/>).</summary>
    private static int FutureSet(IntPtr handle, int which, IntPtr value)
    {
        try
        {
            var future = Handles.Get<Future>(handle);
            if ((Outcome)which == Outcome.Result)
            {
                PythonFutureOps.SetResult(future, value);
            }
            else
            {
                PythonFutureOps.SetException(future, value);
            }
            return 0;
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, -1);
        }
    }

    /// <summary>py: the outcome (<see cref="Outcome"/>; a new reference, as ctypes' py_object
    /// expects) or a marker; None for exception() of a future that did not raise.</summary>
    private static IntPtr FutureOutcome(IntPtr handle, int which)
    {
        try
        {
            return PyApi.NewRef(PythonFutureOps.Outcome(Handles.Get<Future>(handle), which));
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>py: <c>add_done_callback</c> with a zero-argument callable (the package binds the future).</summary>
    private static int FutureAddDoneCallback(IntPtr handle, IntPtr callable)
    {
        try
        {
            PythonFutureOps.AddDoneCallback(Handles.Get<Future>(handle), callable);
            return 0;
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, -1);
        }
    }

    /// <summary>py: Python code assigning <c>_state</c>, <c>_result</c> or <c>_exception</c>
    /// (<see cref="ForceField"/>).</summary>
    private static int FutureForce(IntPtr handle, int which, int state, IntPtr value)
    {
        try
        {
            var future = Handles.Get<Future>(handle);
            if ((ForceField)which == ForceField.State && !Enum.IsDefined((CsFutures.FutureState)state))
            {
                throw new ArgumentOutOfRangeException(nameof(state), state, "not a future state");
            }
            PythonFutureOps.Force(future, which, state, value);
            return 0;
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, -1);
        }
    }

    /// <summary>py: <c>future._condition.notify_all()</c>: wakes the threads blocked on the future.</summary>
    private static int FutureNotifyAll(IntPtr handle)
    {
        try
        {
            Handles.Get<Future>(handle).NotifyAll();
            return 0;
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, -1);
        }
    }

    /// <summary>py: <c>future._waiters.append(waiter)</c>: installs a waiter that calls the
    /// zero-argument <paramref name="callable"/> once, under the GIL, when the future finishes or is
    /// cancelled and notified (<see cref="PythonWaiter"/>). Returns the waiter's handle, for
    /// <c>future_remove_waiter</c>; 0 (None) when the future is already finished or cancelled and
    /// notified: nothing is installed, and the callable is not kept.</summary>
    private static IntPtr FutureAddWaiter(IntPtr handle, IntPtr callable)
    {
        try
        {
            var future = Handles.Get<Future>(handle);
            var waiter = new PythonWaiter(callable);
            if (!future.TryInstallWaiter(waiter))
            {
                waiter.Release();
                return IntPtr.Zero;
            }
            return Handles.New(waiter);
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>py: <c>future._waiters.remove(waiter)</c>: takes the waiter of
    /// <paramref name="waiterHandle"/> off the future (if it is still there: a done future dropped
    /// it when it told it), drops its callable and frees the handle.</summary>
    private static int FutureRemoveWaiter(IntPtr handle, IntPtr waiterHandle)
    {
        try
        {
            var future = Handles.Get<Future>(handle);
            var waiter = Handles.Get<PythonWaiter>(waiterHandle);
            future.RemoveWaiter(waiter);
            waiter.Release();
            Handles.Free(waiterHandle);
            return 0;
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, -1);
        }
    }

    /// <summary>wait: blocks up to <paramref name="seconds"/> for the future to be done; 1 if done.</summary>
    private static int FutureWait(IntPtr handle, double seconds)
    {
        try
        {
            return Handles.Get<Future>(handle).Wait(TimeSpan.FromSeconds(seconds)) ? 1 : 0;
        }
        catch (Exception ex)
        {
            return BridgeErrors.WaitFailed(ex);
        }
    }

    /// <summary>py: starts a <c>concurrent.futures.wait</c> over <paramref name="count"/> futures with
    /// the <see cref="ReturnWhen"/> condition: one waiter, installed once. When the condition holds
    /// already, fills <paramref name="doneMask"/> and returns NULL without an error (Python: None),
    /// as CPython returns before installing a waiter; otherwise a handle for <see cref="WaitNext"/>.</summary>
    private static IntPtr WaitNew(IntPtr* handles, int count, int returnWhen, byte* doneMask)
    {
        try
        {
            if (!Enum.IsDefined((ReturnWhen)returnWhen))
            {
                throw new ArgumentOutOfRangeException(nameof(returnWhen), returnWhen, "Invalid return condition");
            }
            var cursor = new WaitCursor(Futures(handles, count), (ReturnWhen)returnWhen);
            if (cursor.Holds)
            {
                cursor.Fill(doneMask);
                cursor.Dispose();
                return IntPtr.Zero;
            }
            return Handles.New(cursor);
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>wait: one slice of <c>concurrent.futures.wait</c>; fills <paramref name="doneMask"/>
    /// (one byte a future) and returns 1 when the return condition holds, 0 when the slice passed.</summary>
    private static int WaitNext(IntPtr handle, byte* doneMask, double seconds)
    {
        try
        {
            var cursor = Handles.Get<WaitCursor>(handle);
            bool holds = cursor.Step(TimeSpan.FromSeconds(seconds));
            cursor.Fill(doneMask);
            return holds ? 1 : 0;
        }
        catch (Exception ex)
        {
            return BridgeErrors.WaitFailed(ex);
        }
    }

    /// <summary>py: starts an <c>as_completed</c> iteration.</summary>
    private static IntPtr CursorNew(IntPtr* handles, int count)
    {
        try
        {
            return Handles.New(new Cursor(Futures(handles, count)));
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>wait: the index plus one of the next completed future, 0 if none in the slice,
    /// <see cref="EntryCode.CursorExhausted"/> when all were yielded.</summary>
    private static int CursorNext(IntPtr handle, double seconds)
    {
        try
        {
            return Handles.Get<Cursor>(handle).Next(TimeSpan.FromSeconds(seconds));
        }
        catch (Exception ex)
        {
            return BridgeErrors.WaitFailed(ex);
        }
    }

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
            var future = new Future<PyRef>();
            Handles.Get<Executor>(handle).SubmitWorkItem(new PythonCallWorkItem(future, fn, args, PyApi.NullIfNone(kwargs)));
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

    private static Future[] Futures(IntPtr* handles, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count > 0 && handles == null)
        {
            throw new ArgumentNullException(nameof(handles));
        }
        var fs = new Future[count];
        for (int i = 0; i < count; i++)
        {
            fs[i] = Handles.Get<Future>(handles[i]);
        }
        return fs;
    }
}
