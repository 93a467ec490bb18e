using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using CsFutures.Interop.CPython;

namespace CsFutures.Interop.Bridge;

/// <summary>
/// The bridge as a CPython extension module, <c>cs_futures._engine</c>: each entry point of
/// <see cref="NativeEntryPoints.Entries"/> becomes a builtin function (<c>METH_FASTCALL</c>), so that
/// the package's hot path (<c>done()</c>, <c>result()</c>, <c>submit</c>, the waits) is a plain C call
/// with no <c>ctypes</c> in between. The module also holds the contract's text as <c>DESCRIPTION</c>
/// (enums, messages, version) and its <c>VERSION</c>.
/// </summary>
/// <remarks>
/// <para>The natively compiled library exports <c>PyInit__engine</c> (see
/// <c>src/Futures.Interop.Native/NativeExports.cs</c>), so CPython's import system loads
/// <c>cs_futures/_engine.abi3.so</c> as it loads any extension module; the runtime-hosted engine
/// makes the same module through <see cref="NativeEntryPoints.CreateModule"/>, which the package calls once (the only
/// ctypes call left, and only on that engine). The module's surface is the stable ABI (CPython 3.11
/// and later, <c>Py_LIMITED_API</c> 0x030B0000): <c>PyModule_Create2</c> with API version 1013,
/// <c>PyCFunction_NewEx</c>, <c>METH_FASTCALL</c>; one file serves 3.11 to 3.15.</para>
/// <para>Every builtin shares one C function, <see cref="Call"/>; its <c>self</c> is the entry's
/// index. It converts the arguments by the entry's signature letters (<see cref="NativeEntryPoints"/>:
/// <c>h</c> an int or None, <c>i</c>/<c>q</c> an int, <c>d</c> a float or int, <c>o</c> any object,
/// <c>p</c> a list or tuple of handles, <c>b</c> a <c>bytearray</c>), calls the entry through its
/// address and converts the result (<c>h</c>: NULL is None). A "py" entry's failure is the Python
/// error it set; a "wait" entry runs with the GIL released, except a look at futures
/// (<see cref="NativeEntryPoints.Entry.LooksWithGil"/>) with 0 seconds: that call cannot block (it
/// touches no Python object, and what it locks is never held by a thread waiting for the GIL), so it
/// keeps the GIL, as CPython's own <c>as_completed</c> yields a finished future without letting go of
/// it. No .NET exception leaves <see cref="Call"/>.</para>
/// </remarks>
internal static unsafe class EngineModule
{
    private const int MethFastcall = 0x0080;
    private const int PythonApiVersion = 1013; // PYTHON_API_VERSION: the stable ABI's

    /// <summary><c>PyMethodDef</c> (Include/methodobject.h; stable ABI).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct PyMethodDef
    {
        public byte* Name;
        public IntPtr Method;
        public int Flags;
        public byte* Doc;
    }

    /// <summary><c>PyModuleDef</c> (Include/moduleobject.h; stable ABI), its base
    /// (<c>PyModuleDef_HEAD_INIT</c>) spelled out.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct PyModuleDef
    {
        public nint RefCount;
        public IntPtr Type;
        public IntPtr Init;
        public nint Index;
        public IntPtr Copy;
        public byte* Name;
        public byte* Doc;
        public nint Size;
        public IntPtr Methods;
        public IntPtr Slots;
        public IntPtr Traverse;
        public IntPtr Clear;
        public IntPtr Free;
    }

    /// <summary>An entry as <see cref="Call"/> needs it.</summary>
    private readonly struct Target(NativeEntryPoints.Entry entry, delegate*<IntPtr, long*, long> invoke)
    {
        public readonly IntPtr Address = entry.Address;
        public readonly string Name = entry.Name;
        public readonly byte[] Parameters = Encoding.ASCII.GetBytes(entry.Signature[(entry.Signature.IndexOf(':') + 1)..]);
        public readonly byte Result = (byte)entry.Signature[0];
        public readonly bool Waits = entry.Kind == EntryKind.Wait;
        public readonly bool LooksWithGil = entry.LooksWithGil;
        public readonly delegate*<IntPtr, long*, long> Invoke = invoke;
    }

    private static Target[] s_targets = [];
    private static IntPtr s_module;

    // The C API calls of every builtin call, without the GC transition of an ordinary call into
    // native code (a few ns each): each is short, never blocks and never runs Python code, so never
    // calls back into .NET. A conversion that could run Python code (an int subclass's __index__, a
    // float's __float__) goes through PyApi's ordinary function instead.
    private static delegate* unmanaged[SuppressGCTransition]<IntPtr, long> s_exactIntValue;
    private static delegate* unmanaged[SuppressGCTransition]<IntPtr, IntPtr> s_exactIntPointer;
    private static delegate* unmanaged[SuppressGCTransition]<IntPtr> s_errorOccurred;
    private static delegate* unmanaged[SuppressGCTransition]<long, IntPtr> s_newInt;
    private static delegate* unmanaged[SuppressGCTransition]<IntPtr, IntPtr> s_newPointerInt;
    private const int MaxParameters = 8;

    /// <summary>Resolves the C API from <paramref name="pythonLibrary"/> (a handle of the loaded
    /// interpreter) and returns a new reference to the module; NULL with a Python error set (or, before
    /// the C API is known, a message on stderr). The body of <see cref="NativeEntryPoints.CreateModule"/>
    /// and of the natively compiled library's <c>PyInit__engine</c>.</summary>
    internal static IntPtr Create(IntPtr pythonLibrary)
    {
        try
        {
            PyApi.Load(pythonLibrary);
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"cs_futures: the engine module cannot use this interpreter: {ex.Message}");
            return IntPtr.Zero;
        }
        try
        {
            if (s_module != IntPtr.Zero)
            {
                PyApi.Py_IncRef(s_module); // one module a process: the entries hold no per-module state
                return s_module;
            }
            IntPtr module = Build();
            if (module != IntPtr.Zero)
            {
                PyApi.Py_IncRef(module); // the bridge's own reference: the module lives as long as the process
                s_module = module;
            }
            return module;
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    private static IntPtr Build()
    {
        var entries = NativeEntryPoints.Entries();
        var targets = new Target[entries.Count];
        for (int i = 0; i < entries.Count; i++)
        {
            targets[i] = new Target(entries[i], EntryInvokers.For(entries[i].Signature));
            if (targets[i].Parameters.Length > MaxParameters)
            {
                throw new InvalidOperationException($"entry {entries[i].Name} has more than {MaxParameters} parameters");
            }
        }
        s_targets = targets;
        s_exactIntValue = (delegate* unmanaged[SuppressGCTransition]<IntPtr, long>)PyApi.PyLong_AsLongLong;
        s_exactIntPointer = (delegate* unmanaged[SuppressGCTransition]<IntPtr, IntPtr>)PyApi.PyLong_AsVoidPtr;
        s_errorOccurred = (delegate* unmanaged[SuppressGCTransition]<IntPtr>)PyApi.PyErr_Occurred;
        s_newInt = (delegate* unmanaged[SuppressGCTransition]<long, IntPtr>)PyApi.PyLong_FromLongLong;
        s_newPointerInt = (delegate* unmanaged[SuppressGCTransition]<IntPtr, IntPtr>)PyApi.PyLong_FromVoidPtr;

        // The definitions live as long as the process (CPython keeps pointers to them).
        var def = (PyModuleDef*)NativeMemory.AllocZeroed((nuint)sizeof(PyModuleDef));
        def->RefCount = 1;
        def->Name = Utf8("cs_futures._engine");
        def->Doc = Utf8("The cs_futures engine (.NET): the bridge's entry points as builtins.");
        def->Size = -1;
        IntPtr module = PyApi.PyModule_Create2(def, PythonApiVersion);
        if (module == IntPtr.Zero)
        {
            return IntPtr.Zero;
        }
        IntPtr moduleName = PyApi.NewString("cs_futures._engine");
        try
        {
            var call = (IntPtr)(delegate* unmanaged<IntPtr, IntPtr*, nint, IntPtr>)&Call;
            for (int i = 0; i < targets.Length; i++)
            {
                var method = (PyMethodDef*)NativeMemory.AllocZeroed((nuint)sizeof(PyMethodDef));
                method->Name = Utf8(targets[i].Name);
                method->Method = call;
                method->Flags = MethFastcall;
                method->Doc = Utf8($"{targets[i].Name}({string.Join(", ", targets[i].Parameters.Select(p => (char)p))}): "
                    + $"the bridge's {(targets[i].Waits ? "\"wait\" entry (GIL released)" : "\"py\" entry")} "
                    + $"{entries[i].Method} (NativeEntryPoints).");
                IntPtr self = PyApi.PyLong_FromLongLong(i);
                IntPtr function = self == IntPtr.Zero ? IntPtr.Zero : PyApi.PyCFunction_NewEx(method, self, moduleName);
                if (self != IntPtr.Zero)
                {
                    PyApi.Py_DecRef(self);
                }
                if (function == IntPtr.Zero || !AddObject(module, targets[i].Name, function))
                {
                    PyApi.Py_DecRef(module);
                    return IntPtr.Zero;
                }
            }
            if (!AddObject(module, "FutureBase", FutureType.Create())
                || !AddObject(module, "DESCRIPTION", PyApi.NewString(NativeEntryPoints.Description()))
                || !AddObject(module, "VERSION", PyApi.PyLong_FromLongLong(NativeEntryPoints.Version)))
            {
                PyApi.Py_DecRef(module);
                return IntPtr.Zero;
            }
        }
        finally
        {
            PyApi.Py_DecRef(moduleName);
        }
        return module;
    }

    /// <summary>Sets <paramref name="name"/> on the module to <paramref name="value"/> (a new reference,
    /// which this consumes); false with a Python error set when that failed.</summary>
    private static bool AddObject(IntPtr module, string name, IntPtr value)
    {
        if (value == IntPtr.Zero)
        {
            return false;
        }
        fixed (byte* utf8 = Encoding.UTF8.GetBytes(name + "\0"))
        {
            int failed = PyApi.PyObject_SetAttrString(module, utf8, value);
            PyApi.Py_DecRef(value);
            return failed == 0;
        }
    }

    private static byte* Utf8(string text) => (byte*)Marshal.StringToCoTaskMemUTF8(text); // never freed

    /// <summary>The <c>METH_FASTCALL</c> function of every builtin of the module: <paramref name="self"/>
    /// is the entry's index in <see cref="s_targets"/>. Returns a new reference, or NULL with a Python
    /// error set.</summary>
    [UnmanagedCallersOnly]
    [SkipLocalsInit]
    private static IntPtr Call(IntPtr self, IntPtr* args, nint nargs)
    {
        IntPtr* handles = null;
        try
        {
            ref readonly Target target = ref s_targets[(int)s_exactIntValue(self)];
            byte[] parameters = target.Parameters;
            if (nargs != parameters.Length)
            {
                return BridgeErrors.RaiseType(
                    $"{target.Name}() takes {parameters.Length} positional argument{(parameters.Length == 1 ? "" : "s")} but {nargs} {(nargs == 1 ? "was" : "were")} given");
            }
            long* values = stackalloc long[MaxParameters];
            for (int i = 0; i < parameters.Length; i++)
            {
                IntPtr arg = args[i];
                switch (parameters[i])
                {
                    case (byte)'h':
                        values[i] = PyApi.TypeOf(arg) == PyApi.LongType ? (long)s_exactIntPointer(arg)
                            : arg == PyApi.None ? 0 : (long)PyApi.PyLong_AsVoidPtr(arg);
                        break;
                    case (byte)'i':
                    case (byte)'q':
                        values[i] = PyApi.TypeOf(arg) == PyApi.LongType ? s_exactIntValue(arg) : PyApi.PyLong_AsLongLong(arg);
                        break;
                    case (byte)'d':
                        values[i] = BitConverter.DoubleToInt64Bits(PyApi.PyFloat_AsDouble(arg));
                        break;
                    case (byte)'o':
                        values[i] = (long)arg;
                        break;
                    case (byte)'p':
                        handles = HandleArray(arg, target.Name);
                        values[i] = (long)handles;
                        break;
                    case (byte)'b':
                        values[i] = (long)ByteArray(arg, target.Name);
                        break;
                }
            }
            if (s_errorOccurred() != IntPtr.Zero)
            {
                return IntPtr.Zero; // a conversion failed (an argument of the wrong type)
            }
            long result;
            if (target.Waits && !(target.LooksWithGil && values[parameters.Length - 1] == 0))
            {
                IntPtr state = PyApi.PyEval_SaveThread();
                result = target.Invoke(target.Address, values);
                PyApi.PyEval_RestoreThread(state);
            }
            else
            {
                result = target.Invoke(target.Address, values);
                if (s_errorOccurred() != IntPtr.Zero)
                {
                    if (target.Result == (byte)'o' && result != 0)
                    {
                        PyApi.Py_DecRef((IntPtr)result);
                    }
                    return IntPtr.Zero;
                }
            }
            switch (target.Result)
            {
                case (byte)'o':
                    return (IntPtr)result;
                case (byte)'h':
                    return result == 0 ? PyApi.NewRef(PyApi.None) : s_newPointerInt((IntPtr)result);
                default:
                    return s_newInt(result);
            }
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
        finally
        {
            if (handles != null)
            {
                NativeMemory.Free(handles);
            }
        }
    }

    /// <summary>A native copy of a list or tuple of handles (ints), freed after the call; NULL with a
    /// Python error set when an item is not an int.</summary>
    private static IntPtr* HandleArray(IntPtr sequence, string entry)
    {
        bool isList = PyApi.PyList_Check(sequence);
        if (!isList && !PyApi.PyTuple_Check(sequence))
        {
            BridgeErrors.RaiseType($"{entry}(): expected a list or tuple of handles");
            return null;
        }
        nint count = isList ? PyApi.PyList_Size(sequence) : PyApi.PyTuple_Size(sequence);
        var array = (IntPtr*)NativeMemory.Alloc((nuint)Math.Max(count, 1), (nuint)sizeof(IntPtr));
        for (nint i = 0; i < count; i++)
        {
            IntPtr item = isList ? PyApi.PyList_GetItem(sequence, i) : PyApi.PyTuple_GetItem(sequence, i);
            array[i] = PyApi.PyLong_AsVoidPtr(item);
        }
        return array;
    }

    /// <summary>The buffer of a <c>bytearray</c> (written by the entry); NULL with a Python error set
    /// for anything else.</summary>
    private static byte* ByteArray(IntPtr obj, string entry)
    {
        if (!PyApi.PyByteArray_Check(obj))
        {
            BridgeErrors.RaiseType($"{entry}(): expected a bytearray");
            return null;
        }
        return PyApi.PyByteArray_AsString(obj);
    }
}
