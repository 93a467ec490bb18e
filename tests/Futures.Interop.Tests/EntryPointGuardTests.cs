using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.InteropServices;
using CsFutures.Interop.Bridge;
using CsFutures.Interop.CPython;
using CsFutures.Interop.Cluster.Bridge;
using Python.Runtime;
using CsFutures.Processes;

namespace CsFutures.Interop.Tests;

/// <summary>
/// No .NET exception may cross into native code: the only methods C calls (<c>[UnmanagedCallersOnly]</c>,
/// found by reflection) are the engine module's and its FutureBase type's, which catch everything, and every entry point they
/// call is called here through its function pointer with arguments that make it fail (a freed handle,
/// a handle of the wrong type, a Python object that does not convert, a selector out of range). The process must survive; a "py" entry must leave a Python exception
/// set and return -1 or NULL; a "wait" entry must return <see cref="EntryCode.Failed"/> and
/// <c>last_error</c> must then raise. A new entry point without a guard fails here (or ends the run).
/// </summary>
public sealed unsafe class EntryPointGuardTests
{
    private const string NotLive = "does not refer to a live .NET object";

    /// <summary>The assemblies that Python's C calls can reach: the bridge (Futures.Interop.Bridge), pythonnet
    /// hosting on top of it (Futures.Interop) and the cluster's, which adds its entries.</summary>
    private static readonly Assembly[] Bridge =
        [typeof(NativeEntryPoints).Assembly, typeof(CsFutures.Interop.Runtime.PythonRuntime).Assembly, typeof(ClusterEntryPoints).Assembly];

    /// <summary>Every entry of the runtime-hosted module: the cluster's are added first, as the package's
    /// <c>ClusterEntryPoints.CreateModule</c> does (here also when the cases are made, before any fixture).</summary>
    private static IReadOnlyList<NativeEntryPoints.Entry> Entries()
    {
        ClusterEntryPoints.Register();
        return NativeEntryPoints.Entries();
    }

    private static IEnumerable<MethodInfo> UnmanagedMethods() =>
        Bridge.SelectMany(a => a.GetTypes())
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Where(m => m.GetCustomAttribute<UnmanagedCallersOnlyAttribute>() is not null);

    private static MethodInfo MethodOf(NativeEntryPoints.Entry entry) =>
        entry.Owner.GetMethod(entry.Method, BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
        ?? throw new AssertionException($"{entry.Name}: {entry.Owner.Name} has no method {entry.Method}");

    private static IEnumerable<MethodInfo> EntryMethods() => Entries().Select(MethodOf);

    private static NativeEntryPoints.Entry EntryFor(MethodInfo method) =>
        Entries().Single(e => e.Method == method.Name);

    public static IEnumerable<TestCaseData> EntryCases() =>
        Entries().Select(e => new TestCaseData(e.Name).SetName($"Guarded_{e.Name}"));

    [Test]
    public void CEntersOnlyThroughTheEngineModuleAndEveryEntryIsAMethod()
    {
        Assert.That(UnmanagedMethods().Select(m => $"{m.DeclaringType!.Name}.{m.Name}"),
            Is.EquivalentTo(new[]
            {
                "NativeEntryPoints.CreateModule", "ClusterEntryPoints.CreateModule", "EngineModule.Call",
                "FutureType.Done", "FutureType.Running", "FutureType.Cancelled", "FutureType.CancelMethod", "FutureType.ResultMethod", "FutureType.ExceptionMethod",
            }),
            "C calls .NET only through the module's factories, its builtins' one function and FutureBase's methods");
        Assert.That(Entries().Select(e => e.Method), Is.Unique);
        Assert.That(Entries().Select(e => e.Name), Is.Unique);
        Assert.That(Entries().Select(e => MethodOf(e).DeclaringType == e.Owner), Is.All.True);
        Assert.That(Entries().Select(e => e.Owner).Distinct(), Is.EquivalentTo(new[] { typeof(NativeEntryPoints), typeof(ClusterEntryPoints) }));
        Assert.That(Entries().Select(e => e.Address), Has.None.EqualTo(IntPtr.Zero));
    }

    [Test]
    public void EveryEntryCatchesEveryException()
    {
        foreach (var method in EntryMethods().Concat(UnmanagedMethods()))
        {
            if (method.Name == "GetVersion")
            {
                continue; // returns a constant: nothing in it can throw
            }
            var body = method.DeclaringType == typeof(NativeEntryPoints) && method.Name == nameof(NativeEntryPoints.CreateModule) // shared with the native library's PyInit__engine
                ? typeof(EngineModule).GetMethod(nameof(EngineModule.Create), BindingFlags.Static | BindingFlags.NonPublic)!
                : method;
            var clauses = body.GetMethodBody()!.ExceptionHandlingClauses;
            Assert.That(clauses.Any(c => c.Flags == ExceptionHandlingClauseOptions.Clause && c.CatchType == typeof(Exception)),
                Is.True, $"{method.Name} wraps its body in try/catch (Exception)");
        }
    }

    [Test]
    public void SignaturesMatchTheMethods()
    {
        foreach (var method in EntryMethods())
        {
            var entry = EntryFor(method);
            string expected = Letter(method.ReturnType) + ":" + string.Concat(method.GetParameters().Select(p => Letter(p.ParameterType)));
            string declared = entry.Signature.Replace('o', 'h'); // a Python object is a pointer too
            Assert.That(declared, Is.EqualTo(expected), entry.Name);
            Assert.That(entry.Address, Is.Not.EqualTo(IntPtr.Zero), entry.Name);
        }
    }

    [TestCaseSource(nameof(EntryCases))]
    public void FailsCleanly(string name)
    {
        var entry = Entries().Single(e => e.Name == name);
        var method = MethodOf(entry);
        if (entry.Signature.EndsWith(':'))
        {
            CallsWithoutArguments(entry);
            return;
        }
        if (entry.Name == "test_stress")
        {
            // The tests' entry takes counts, nothing that can be invalid, and is tested where it is
            // called from: through the engine module, in both runtimes at once (test_native_engine.py). Called
            // here, through a DynamicMethod's calli, its forced collections made later calls of this
            // suite through other DynamicMethods pass handles with their upper half zeroed, in Debug
            // builds, 2 to 3 runs in 6 (none in 6 without this call): a path no caller of the bridge takes.
            Assert.That(entry.Signature, Is.EqualTo("i:ii"));
            return;
        }
        IntPtr freed = FreedHandle();
        IntPtr[] badHandles = [freed];
        byte[] mask = new byte[8];
        var handlesPin = GCHandle.Alloc(badHandles, GCHandleType.Pinned);
        var maskPin = GCHandle.Alloc(mask, GCHandleType.Pinned);
        try
        {
            using (Py.GIL())
            {
                IntPtr unconvertible = NewPlainObject(); // object(): not a str, tuple, bytes...
                try
                {
                    string[] letters = entry.Signature.Split(':')[1].Select(c => c.ToString()).ToArray();
                    object[] args = letters.Select<string, object>(letter => letter switch
                    {
                        "h" => (object)freed,
                        "o" => (object)unconvertible,
                        "i" => (object)1,
                        "q" => (object)1L,
                        "d" => (object)0.01,
                        "p" => (object)handlesPin.AddrOfPinnedObject(),
                        "b" => (object)maskPin.AddrOfPinnedObject(),
                        _ => throw new AssertionException($"unknown letter {letter}"),
                    }).ToArray();
                    if (entry.Kind == EntryKind.Py)
                    {
                        object result = Call(entry, method, args);
                        AssertPythonFailure(entry.Name, result);
                    }
                    else
                    {
                        object result;
                        using (AllowThreads())
                        {
                            result = Call(entry, method, args); // "wait" entries run without the GIL
                        }
                        Assert.That(result, Is.EqualTo((int)EntryCode.Failed), $"{entry.Name} returns the documented failure code");
                        var lastError = Entries().Single(e => e.Name == "last_error");
                        object raised = Call(lastError, typeof(NativeEntryPoints).GetMethod(lastError.Method, BindingFlags.Static | BindingFlags.NonPublic)!, []);
                        AssertPythonFailure(entry.Name, raised, NotLive);
                    }
                }
                finally
                {
                    PyApi.Py_DecRef(unconvertible);
                }
            }
        }
        finally
        {
            handlesPin.Free();
            maskPin.Free();
        }
    }

    [Test]
    public void WrongHandleTypesAndSelectorsRaise()
    {
        using var executor = PythonFixture.Runtime.CreateExecutor(1, "guard");
        IntPtr future = Handles.New(new Future<PyRef>());
        IntPtr pool = Handles.New(executor);
        try
        {
            using (Py.GIL())
            {
                AssertPythonFailure("executor_info(future)", Invoke("executor_info", future, 0), "not a ThreadPoolExecutor");
                AssertPythonFailure("future_state(executor)", Invoke("future_state", pool), "not a Future");
                AssertPythonFailure("executor_info(99)", Invoke("executor_info", pool, 99), "ExecutorInfo");
                AssertPythonFailure("future_force(state 99)", Invoke("future_force", future, (int)ForceField.State, 99, PyApi.None), "future state");
                AssertPythonFailure("broken_reason(future)", Invoke("broken_reason", future), "no broken state");
                AssertPythonFailure("executor_new(0)", Invoke("executor_new", 0, PyApi.None, PyApi.None), FuturesMessages.MaxWorkersNotPositive);
                IntPtr[] one = [future];
                var pin = GCHandle.Alloc(one, GCHandleType.Pinned);
                try
                {
                    byte[] mask = new byte[1];
                    fixed (byte* m = mask)
                    {
                        AssertPythonFailure("wait_new(return_when 99)", Invoke("wait_new", pin.AddrOfPinnedObject(), 1, 99, (IntPtr)m), "return condition");
                    }
                }
                finally
                {
                    pin.Free();
                }
                Assert.That(Invoke("future_state", future), Is.EqualTo((int)FutureState.Pending), "the future was not touched");
            }
        }
        finally
        {
            Handles.Free(future);
            Handles.Free(pool);
        }
    }

    [Test]
    public void FreedAndForeignHandlesAreRecognised()
    {
        IntPtr handle = Handles.New("x");
        Assert.That(Handles.Get<string>(handle), Is.EqualTo("x"));
        Assert.That(Handles.Free(handle), Is.True);
        Assert.That(() => Handles.Target(handle), Throws.TypeOf<ObjectDisposedException>().With.Message.Contains(NotLive));
        Assert.That(() => Handles.Free(handle), Throws.TypeOf<ObjectDisposedException>());
        IntPtr reused = Handles.New("y"); // likely the same slot: the sequence number tells them apart
        Assert.That(() => Handles.Target(handle), Throws.TypeOf<ObjectDisposedException>());
        Assert.That(() => Handles.Target(IntPtr.Zero), Throws.TypeOf<ObjectDisposedException>());
        Assert.That(() => Handles.Target(unchecked((IntPtr)(long)0xdead_beef_0000_0001)), Throws.TypeOf<ObjectDisposedException>());
        Assert.That(() => Handles.Get<Future>(reused), Throws.TypeOf<InvalidCastException>());
        IntPtr copy = Handles.Copy(reused);
        Assert.That(Handles.Get<string>(copy), Is.SameAs(Handles.Get<string>(reused)));
        Assert.That(Handles.Free(reused), Is.False, "the copy still refers to it");
        Assert.That(Handles.Free(copy), Is.True, "the last handle");
    }

    [Test]
    public void WaitInstallsOneWaiterForAllItsSlices()
    {
        var pending = new Future<int>();
        var done = new Future<int>();
        done.SetResult(1);
        var count = typeof(Future).GetProperty("WaiterCount", BindingFlags.Instance | BindingFlags.NonPublic)!;
        int Waiters(Future f) => (int)count.GetValue(f)!;
        using (var cursor = new WaitCursor([pending, done], ReturnWhen.AllCompleted))
        {
            for (int slice = 0; slice < 3; slice++)
            {
                Assert.That(cursor.Step(TimeSpan.FromMilliseconds(5)), Is.False);
                Assert.That(Waiters(pending), Is.EqualTo(1), "one waiter, whatever the number of slices");
            }
            Assert.That(Waiters(done), Is.Zero);
            pending.SetResult(2);
            Assert.That(cursor.Step(TimeSpan.FromSeconds(30)), Is.True);
            byte[] mask = new byte[2];
            unsafe
            {
                fixed (byte* p = mask)
                {
                    cursor.Fill(p);
                }
            }
            Assert.That(mask, Is.EqualTo(new byte[] { 1, 1 }));
        }
        Assert.That(Waiters(pending), Is.Zero, "removed at the end");
    }

    [Test]
    public void WaitNewAnswersAtOnceWhenTheConditionHolds()
    {
        var done = new Future<int>();
        done.SetResult(1);
        var pending = new Future<int>();
        IntPtr[] handles = [Handles.New(done), Handles.New(pending)];
        byte[] mask = new byte[2];
        try
        {
            using (Py.GIL())
            fixed (IntPtr* h = handles)
            fixed (byte* m = mask)
            {
                object first = Invoke("wait_new", (IntPtr)h, 2, (int)ReturnWhen.FirstCompleted, (IntPtr)m);
                Assert.That(first, Is.EqualTo(IntPtr.Zero), "no cursor: the wait is over");
                Assert.That(PyApi.PyErr_Occurred(), Is.EqualTo(IntPtr.Zero), "and no error");
                Assert.That(mask, Is.EqualTo(new byte[] { 1, 0 }));
                var cursor = (IntPtr)Invoke("wait_new", (IntPtr)h, 2, (int)ReturnWhen.AllCompleted, (IntPtr)m);
                Assert.That(cursor, Is.Not.EqualTo(IntPtr.Zero));
                Assert.That(Handles.Get<WaitCursor>(cursor).Holds, Is.False);
                Assert.That(Invoke("handle_free", cursor, 0), Is.EqualTo(0));
            }
        }
        finally
        {
            Handles.Free(handles[0]);
            Handles.Free(handles[1]);
        }
    }

    [Test]
    public void FirstExceptionAndFirstCompletedConditions()
    {
        var a = new Future<int>();
        var b = new Future<int>();
        using (var first = new WaitCursor([a, b], ReturnWhen.FirstException))
        {
            a.SetResult(1);
            Assert.That(first.Step(TimeSpan.FromMilliseconds(5)), Is.False, "a result is not an exception");
            b.SetException(new InvalidOperationException("x"));
            Assert.That(first.Step(TimeSpan.FromSeconds(30)), Is.True);
        }
        var c = new Future<int>();
        using var any = new WaitCursor([c, new Future<int>()], ReturnWhen.FirstCompleted);
        Assert.That(any.Step(TimeSpan.FromMilliseconds(5)), Is.False);
        c.Cancel();
        c.SetRunningOrNotifyCancel();
        Assert.That(any.Step(TimeSpan.FromSeconds(30)), Is.True);
    }

    [Test]
    public void SharedMessagesAreTheEnginesOwn()
    {
        var executor = new ThreadPoolExecutor(1);
        executor.Shutdown();
        Assert.That(() => executor.Submit(() => 1),
            Throws.InvalidOperationException.With.Message.EqualTo(FuturesMessages.SubmitAfterShutdown));
        var pool = new Processes.PythonProcessPoolExecutor(PythonFixture.Runtime, new Processes.PythonProcessPoolOptions { MaxWorkers = 1 });
        pool.Shutdown();
        var fn = PythonFixture.Runtime.GetCallable(PythonFixture.TestModule, "square");
        Assert.That(() => pool.SubmitPython<long>(fn, 2),
            Throws.InvalidOperationException.With.Message.EqualTo(FuturesMessages.SubmitAfterShutdown));
        Assert.That(NativeEntryPoints.SharedMessages["SubmitAfterShutdown"], Is.EqualTo(FuturesMessages.SubmitAfterShutdown));
        // The engine's argument checks spell CPython's messages as FuturesMessages does.
        // (ThreadPoolExecutor(0) is left out: its finalizer then dereferences the pool that the
        // constructor never set, and ends the test host; the bridge's executor_new checks first.)
        Assert.That(() => new ProcessPoolExecutor(new ProcessPoolExecutorOptions { FileName = "true", MaxWorkers = 0 }),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.StartsWith(FuturesMessages.MaxWorkersNotPositive));
        Assert.That(() => new ProcessPoolExecutor(new ProcessPoolExecutorOptions { FileName = "true", MaxWorkers = 1, MaxTasksPerChild = 0 }),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.StartsWith(FuturesMessages.MaxTasksPerChildNotPositive));
        using var pool1 = new ThreadPoolExecutor(1);
        Assert.That(() => pool1.Map(x => x, new[] { 1 }, buffersize: 0).ToList(),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.StartsWith(FuturesMessages.BuffersizeNotPositive));
    }

    [Test]
    public void DescriptionNamesEveryEntryEnumAndMessage()
    {
        string[] lines = NativeEntryPoints.Description().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Is.EqualTo($"version\t{NativeEntryPoints.Version}"));
        foreach (var entry in Entries())
        {
            Assert.That(lines, Has.One.EqualTo($"entry\t{entry.Name}\t{(entry.Kind == EntryKind.Py ? "py" : "wait")}\t{entry.Signature}"));
        }
        Assert.That(lines, Has.One.EqualTo($"enum\tExecutorInfo\tQueuedCount\t{(int)ExecutorInfo.QueuedCount}"));
        Assert.That(lines, Has.One.EqualTo($"enum\tFutureState\tFinished\t{(int)FutureState.Finished}"));
        Assert.That(lines, Has.One.EqualTo($"message\tSubmitAfterShutdown\t{FuturesMessages.SubmitAfterShutdown}"));
        Assert.That(lines.Skip(1).All(l => l.Split('\t').Length >= 3), Is.True);
    }

    private static void CallsWithoutArguments(NativeEntryPoints.Entry entry)
    {
        var method = MethodOf(entry);
        using (Py.GIL())
        {
            object result = Call(entry, method, []);
            Assert.That(PyApi.PyErr_Occurred(), Is.EqualTo(IntPtr.Zero), entry.Name);
            switch (entry.Name)
            {
                case "get_version":
                    Assert.That(result, Is.EqualTo(NativeEntryPoints.Version));
                    break;
                case "last_error":
                    Assert.That(result, Is.EqualTo(0), "nothing failed before");
                    break;
                case "future_new":
                    Assert.That(Handles.Free((IntPtr)result), Is.True);
                    break;
                default:
                    Assert.Fail($"{entry.Name} takes no argument: say here what it must return");
                    break;
            }
        }
    }

    private static object Invoke(string name, params object[] args)
    {
        var entry = Entries().Single(e => e.Name == name);
        var method = MethodOf(entry);
        return Call(entry, method, args);
    }

    /// <summary>Calls the entry through its function pointer (as the engine module does), pointers as IntPtr.</summary>
    private static object Call(NativeEntryPoints.Entry entry, MethodInfo method, object[] args)
    {
        Type[] parameters = method.GetParameters().Select(p => p.ParameterType.IsPointer ? typeof(IntPtr) : p.ParameterType).ToArray();
        Type returns = method.ReturnType.IsPointer ? typeof(IntPtr) : method.ReturnType;
        var call = new DynamicMethod("call_" + entry.Name, returns, [.. parameters, typeof(IntPtr)], typeof(EntryPointGuardTests).Module, skipVisibility: true);
        var il = call.GetILGenerator();
        for (int i = 0; i <= parameters.Length; i++)
        {
            il.Emit(OpCodes.Ldarg, (short)i);
        }
        il.EmitCalli(OpCodes.Calli, CallingConventions.Standard, returns, parameters, null);
        il.Emit(OpCodes.Ret);
        return call.Invoke(null, [.. args, entry.Address])!;
    }

    /// <summary>A "py" entry failed: it returned -1 or NULL and a Python exception is set (taken here).</summary>
    private static void AssertPythonFailure(string what, object result, string? message = null)
    {
        Assert.That(result, Is.EqualTo(-1).Or.EqualTo(-1L).Or.EqualTo(IntPtr.Zero), $"{what} returns -1 or NULL");
        Assert.That(PyApi.PyErr_Occurred(), Is.Not.EqualTo(IntPtr.Zero), $"{what} sets a Python exception");
        using var error = PyErr.Fetch();
        var (type, text, _) = PythonBridge.DescribeException(error.Pointer);
        Assert.That(type, Is.AnyOf("RuntimeError", "ValueError"), $"{what}: {type}: {text}");
        if (message is not null)
        {
            Assert.That(text, Does.Contain(message), what);
        }
    }

    private static IntPtr FreedHandle()
    {
        IntPtr handle = Handles.New(new object());
        Handles.Free(handle);
        return handle;
    }

    private static IntPtr NewPlainObject()
    {
        IntPtr builtins = PyApi.Import("builtins");
        IntPtr cls = PyApi.GetAttr(builtins, "object");
        IntPtr instance = PyApi.PyObject_CallNoArgs(cls);
        PyApi.Py_DecRef(cls);
        PyApi.Py_DecRef(builtins);
        return instance;
    }

    /// <summary>Releases the GIL for a scope (as the engine module does around a "wait" entry).</summary>
    private static ReleasedGil AllowThreads() => new(PyApi.PyEval_SaveThread());

    private readonly struct ReleasedGil(IntPtr state) : IDisposable
    {
        public void Dispose() => PyApi.PyEval_RestoreThread(state);
    }

    private static string Letter(Type type) => type switch
    {
        _ when type == typeof(IntPtr) => "h",
        _ when type == typeof(int) => "i",
        _ when type == typeof(long) => "q",
        _ when type == typeof(double) => "d",
        _ when type == typeof(IntPtr*) => "p",
        _ when type == typeof(byte*) => "b",
        _ => throw new AssertionException($"no ctypes letter for {type}"),
    };
}
