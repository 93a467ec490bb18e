using System.Runtime.InteropServices;
using System.Text;
using CsFutures.Interop.CPython;
using CsFutures.Interop.Threads;
using CsFutures.Processes;

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
    /// <summary>Bumped when an entry point changes meaning or the description gains a kind of line; the
    /// Python package checks it.</summary>
    public const int Version = 6;

    /// <summary>How long one blocking call waits in .NET before it returns to Python, which then runs its
    /// signal handlers (Ctrl-C) and calls again: the package's <c>_bridge.SLICE</c>, and the slice of
    /// <c>FutureBase.result()</c>'s wait in C.</summary>
    public static readonly TimeSpan WaitSlice = TimeSpan.FromSeconds(0.1);

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

    /// <summary>Numbers that both the engine and the Python package use, by name
    /// (<c>_bridge.NUMBERS[name]</c>): one value, here.</summary>
    public static IReadOnlyDictionary<string, double> SharedNumbers { get; } = new Dictionary<string, double>
    {
        [nameof(WaitSlice)] = WaitSlice.TotalSeconds,
    };

    /// <summary>The contract as text, one item a line, fields separated by tabs:
    /// <c>version N</c>; <c>entry name kind signature</c>; <c>enum Type Member value</c>;
    /// <c>message name text</c>; <c>number name value</c>. Read by <c>cs_futures/_loader.py</c>.</summary>
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
        foreach (var (name, number) in SharedNumbers)
        {
            text.Append("number\t").Append(name).Append('\t').Append(number.ToString("R", invariant)).Append('\n');
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
}
