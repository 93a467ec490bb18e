using System.Runtime.InteropServices;

namespace CsFutures.Interop.CPython;

/// <summary>
/// The few functions of CPython's C API that the bridge calls, resolved at run time from the
/// interpreter already loaded in the process (stable ABI functions present in 3.11 to 3.13).
/// Every call except the GIL functions requires the calling thread to hold the GIL.
/// </summary>
internal static unsafe class PyApi
{
    public static delegate* unmanaged<IntPtr, void> Py_IncRef;
    public static delegate* unmanaged<IntPtr, void> Py_DecRef;
    public static delegate* unmanaged<int> PyGILState_Ensure;
    public static delegate* unmanaged<int, void> PyGILState_Release;
    public static delegate* unmanaged<int> PyGILState_Check;
    public static delegate* unmanaged<IntPtr> PyEval_SaveThread;
    public static delegate* unmanaged<IntPtr, void> PyEval_RestoreThread;
    public static delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr> PyObject_Call;
    public static delegate* unmanaged<IntPtr, IntPtr, IntPtr> PyObject_CallOneArg;
    public static delegate* unmanaged<IntPtr, IntPtr> PyObject_CallNoArgs;
    public static delegate* unmanaged<IntPtr*, IntPtr*, IntPtr*, void> PyErr_Fetch;
    public static delegate* unmanaged<IntPtr*, IntPtr*, IntPtr*, void> PyErr_NormalizeException;
    public static delegate* unmanaged<IntPtr, IntPtr, int> PyException_SetTraceback;
    public static delegate* unmanaged<IntPtr, IntPtr, void> PyErr_SetObject;
    public static delegate* unmanaged<void> PyErr_Clear;
    public static delegate* unmanaged<void> PyErr_Print;
    public static delegate* unmanaged<byte*, nint, IntPtr> PyUnicode_FromStringAndSize;
    public static delegate* unmanaged<IntPtr, nint*, byte*> PyUnicode_AsUTF8AndSize;
    public static delegate* unmanaged<IntPtr, IntPtr> PyObject_Str;
    public static delegate* unmanaged<nint, IntPtr> PyTuple_New;
    public static delegate* unmanaged<IntPtr, nint, IntPtr, int> PyTuple_SetItem;
    public static delegate* unmanaged<IntPtr, nint, IntPtr> PyTuple_GetItem;
    public static delegate* unmanaged<IntPtr, nint> PyTuple_Size;
    public static delegate* unmanaged<IntPtr, long> PyLong_AsLongLong;
    public static delegate* unmanaged<long, IntPtr> PyLong_FromLongLong;
    public static delegate* unmanaged<int> Py_IsInitialized;
    public static delegate* unmanaged<IntPtr> PyErr_Occurred;
    public static delegate* unmanaged<byte*, IntPtr> PyImport_ImportModule;
    public static delegate* unmanaged<IntPtr, byte*, IntPtr> PyObject_GetAttrString;
    public static delegate* unmanaged<IntPtr, byte*, IntPtr, int> PyObject_SetAttrString;
    public static delegate* unmanaged<IntPtr, int> PyObject_IsTrue;
    public static delegate* unmanaged<IntPtr, ulong> PyType_GetFlags;
    public static delegate* unmanaged<byte*, nint, IntPtr> PyBytes_FromStringAndSize;
    public static delegate* unmanaged<IntPtr, byte**, nint*, int> PyBytes_AsStringAndSize;
    public static delegate* unmanaged<double, IntPtr> PyFloat_FromDouble;
    public static delegate* unmanaged<IntPtr, double> PyFloat_AsDouble;
    public static delegate* unmanaged<nint, IntPtr> PyList_New;
    public static delegate* unmanaged<IntPtr, nint, IntPtr, int> PyList_SetItem;
    public static delegate* unmanaged<IntPtr, nint> PyList_Size;
    public static delegate* unmanaged<IntPtr, nint, IntPtr> PyList_GetItem;
    public static delegate* unmanaged<IntPtr> PyDict_New;
    public static delegate* unmanaged<IntPtr, IntPtr, IntPtr, int> PyDict_SetItem;
    public static delegate* unmanaged<IntPtr, nint*, IntPtr*, IntPtr*, int> PyDict_Next;
    public static delegate* unmanaged<IntPtr, IntPtr> PyLong_AsVoidPtr;
    public static delegate* unmanaged<IntPtr, IntPtr> PyLong_FromVoidPtr;
    public static delegate* unmanaged<IntPtr, byte*> PyByteArray_AsString;
    public static delegate* unmanaged<IntPtr, IntPtr, int> PyType_IsSubtype;
    public static delegate* unmanaged<void*, int, IntPtr> PyModule_Create2;
    public static delegate* unmanaged<void*, IntPtr, IntPtr, IntPtr> PyCFunction_NewEx;
    public static delegate* unmanaged<void*, IntPtr> PyType_FromSpec;
    public static delegate* unmanaged<IntPtr, byte*, int> PyUnicode_CompareWithASCIIString;
    public static delegate* unmanaged<int> PyErr_CheckSignals;
    public static IntPtr ByteArrayType;
    public static IntPtr LongType;
    public static IntPtr True;
    public static IntPtr False;
    public static IntPtr FloatType;
    public static IntPtr None;
    private static delegate* unmanaged<int> s_isFinalizing;
    private static delegate* unmanaged<IntPtr> s_currentThreadState;

    /// <summary><c>Py_NewInterpreterFromConfig</c> (CPython 3.12 and later; null before): creates an
    /// interpreter from a <see cref="PyInterpreterConfig"/> and makes its first thread state current.</summary>
    public static delegate* unmanaged<IntPtr*, PyInterpreterConfig*, PyStatus> Py_NewInterpreterFromConfig;
    /// <summary><c>Py_EndInterpreter</c>: ends the interpreter of the current thread state (held).</summary>
    public static delegate* unmanaged<IntPtr, void> Py_EndInterpreter;
    public static delegate* unmanaged<IntPtr> PyGILState_GetThisThreadState;
    public static delegate* unmanaged<IntPtr, void> PyThreadState_Clear;
    public static delegate* unmanaged<void> PyThreadState_DeleteCurrent;
    public static delegate* unmanaged<byte*, int, IntPtr, IntPtr, IntPtr> PyRun_String;
    public static delegate* unmanaged<IntPtr> PyEval_GetBuiltins;
    public static delegate* unmanaged<IntPtr, byte*, IntPtr> PyDict_GetItemString;
    public static delegate* unmanaged<IntPtr, byte*, IntPtr, int> PyDict_SetItemString;

    /// <summary>True once <see cref="Load"/> resolved the functions.</summary>
    public static bool Loaded { get; private set; }

    /// <summary>Resolves the functions from <paramref name="library"/>, a handle of the loaded
    /// interpreter (Python's <c>ctypes.pythonapi._handle</c>, or a handle from
    /// <see cref="NativeLibrary.Load(string)"/> of libpython).</summary>
    public static void Load(IntPtr library)
    {
        if (Loaded)
        {
            return;
        }
        bool Has(string name) => NativeLibrary.TryGetExport(library, name, out _);
        if (IsFreeThreaded(Has))
        {
            throw new NotSupportedException(
                "this libpython is a free-threaded build (Py_GIL_DISABLED, python3.13t and later): cs_futures "
                + "relies on the GIL and on the default build's object layout, and does not support it yet; "
                + "use the default build of CPython 3.11 or newer");
        }
        IntPtr Get(string name) => NativeLibrary.TryGetExport(library, name, out IntPtr address)
            ? address
            : throw new EntryPointNotFoundException(
                $"libpython does not export {name}: cs_futures needs CPython 3.11 or newer (the default build)");
        Py_IncRef = (delegate* unmanaged<IntPtr, void>)Get("Py_IncRef");
        Py_DecRef = (delegate* unmanaged<IntPtr, void>)Get("Py_DecRef");
        PyGILState_Ensure = (delegate* unmanaged<int>)Get("PyGILState_Ensure");
        PyGILState_Release = (delegate* unmanaged<int, void>)Get("PyGILState_Release");
        PyGILState_Check = (delegate* unmanaged<int>)Get("PyGILState_Check");
        PyEval_SaveThread = (delegate* unmanaged<IntPtr>)Get("PyEval_SaveThread");
        PyEval_RestoreThread = (delegate* unmanaged<IntPtr, void>)Get("PyEval_RestoreThread");
        PyObject_Call = (delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr>)Get("PyObject_Call");
        PyObject_CallOneArg = (delegate* unmanaged<IntPtr, IntPtr, IntPtr>)Get("PyObject_CallOneArg");
        PyObject_CallNoArgs = (delegate* unmanaged<IntPtr, IntPtr>)Get("PyObject_CallNoArgs");
        PyErr_Fetch = (delegate* unmanaged<IntPtr*, IntPtr*, IntPtr*, void>)Get("PyErr_Fetch");
        PyErr_NormalizeException = (delegate* unmanaged<IntPtr*, IntPtr*, IntPtr*, void>)Get("PyErr_NormalizeException");
        PyException_SetTraceback = (delegate* unmanaged<IntPtr, IntPtr, int>)Get("PyException_SetTraceback");
        PyErr_SetObject = (delegate* unmanaged<IntPtr, IntPtr, void>)Get("PyErr_SetObject");
        PyErr_Clear = (delegate* unmanaged<void>)Get("PyErr_Clear");
        PyErr_Print = (delegate* unmanaged<void>)Get("PyErr_Print");
        PyUnicode_FromStringAndSize = (delegate* unmanaged<byte*, nint, IntPtr>)Get("PyUnicode_FromStringAndSize");
        PyUnicode_AsUTF8AndSize = (delegate* unmanaged<IntPtr, nint*, byte*>)Get("PyUnicode_AsUTF8AndSize");
        PyObject_Str = (delegate* unmanaged<IntPtr, IntPtr>)Get("PyObject_Str");
        PyTuple_New = (delegate* unmanaged<nint, IntPtr>)Get("PyTuple_New");
        PyTuple_SetItem = (delegate* unmanaged<IntPtr, nint, IntPtr, int>)Get("PyTuple_SetItem");
        PyTuple_GetItem = (delegate* unmanaged<IntPtr, nint, IntPtr>)Get("PyTuple_GetItem");
        PyTuple_Size = (delegate* unmanaged<IntPtr, nint>)Get("PyTuple_Size");
        PyLong_AsLongLong = (delegate* unmanaged<IntPtr, long>)Get("PyLong_AsLongLong");
        PyLong_FromLongLong = (delegate* unmanaged<long, IntPtr>)Get("PyLong_FromLongLong");
        Py_IsInitialized = (delegate* unmanaged<int>)Get("Py_IsInitialized");
        None = Get("_Py_NoneStruct");
        PyErr_Occurred = (delegate* unmanaged<IntPtr>)Get("PyErr_Occurred");
        PyImport_ImportModule = (delegate* unmanaged<byte*, IntPtr>)Get("PyImport_ImportModule");
        PyObject_GetAttrString = (delegate* unmanaged<IntPtr, byte*, IntPtr>)Get("PyObject_GetAttrString");
        PyObject_SetAttrString = (delegate* unmanaged<IntPtr, byte*, IntPtr, int>)Get("PyObject_SetAttrString");
        PyObject_IsTrue = (delegate* unmanaged<IntPtr, int>)Get("PyObject_IsTrue");
        PyType_GetFlags = (delegate* unmanaged<IntPtr, ulong>)Get("PyType_GetFlags");
        PyBytes_FromStringAndSize = (delegate* unmanaged<byte*, nint, IntPtr>)Get("PyBytes_FromStringAndSize");
        PyBytes_AsStringAndSize = (delegate* unmanaged<IntPtr, byte**, nint*, int>)Get("PyBytes_AsStringAndSize");
        PyFloat_FromDouble = (delegate* unmanaged<double, IntPtr>)Get("PyFloat_FromDouble");
        PyFloat_AsDouble = (delegate* unmanaged<IntPtr, double>)Get("PyFloat_AsDouble");
        PyList_New = (delegate* unmanaged<nint, IntPtr>)Get("PyList_New");
        PyList_SetItem = (delegate* unmanaged<IntPtr, nint, IntPtr, int>)Get("PyList_SetItem");
        PyList_Size = (delegate* unmanaged<IntPtr, nint>)Get("PyList_Size");
        PyList_GetItem = (delegate* unmanaged<IntPtr, nint, IntPtr>)Get("PyList_GetItem");
        PyDict_New = (delegate* unmanaged<IntPtr>)Get("PyDict_New");
        PyDict_SetItem = (delegate* unmanaged<IntPtr, IntPtr, IntPtr, int>)Get("PyDict_SetItem");
        PyDict_Next = (delegate* unmanaged<IntPtr, nint*, IntPtr*, IntPtr*, int>)Get("PyDict_Next");
        PyLong_AsVoidPtr = (delegate* unmanaged<IntPtr, IntPtr>)Get("PyLong_AsVoidPtr");
        PyLong_FromVoidPtr = (delegate* unmanaged<IntPtr, IntPtr>)Get("PyLong_FromVoidPtr");
        PyByteArray_AsString = (delegate* unmanaged<IntPtr, byte*>)Get("PyByteArray_AsString");
        PyType_IsSubtype = (delegate* unmanaged<IntPtr, IntPtr, int>)Get("PyType_IsSubtype");
        PyModule_Create2 = (delegate* unmanaged<void*, int, IntPtr>)Get("PyModule_Create2");
        PyCFunction_NewEx = (delegate* unmanaged<void*, IntPtr, IntPtr, IntPtr>)Get("PyCFunction_NewEx");
        PyType_FromSpec = (delegate* unmanaged<void*, IntPtr>)Get("PyType_FromSpec");
        PyUnicode_CompareWithASCIIString = (delegate* unmanaged<IntPtr, byte*, int>)Get("PyUnicode_CompareWithASCIIString");
        PyErr_CheckSignals = (delegate* unmanaged<int>)Get("PyErr_CheckSignals");
        ByteArrayType = Get("PyByteArray_Type");
        LongType = Get("PyLong_Type");
        True = Get("_Py_TrueStruct");
        False = Get("_Py_FalseStruct");
        FloatType = Get("PyFloat_Type");
        s_isFinalizing = (delegate* unmanaged<int>)Get(FinalizingFunction(Has));
        // PyThreadState_GetUnchecked from 3.13; its older private name is still exported there.
        s_currentThreadState = (delegate* unmanaged<IntPtr>)Get(
            Has("PyThreadState_GetUnchecked") ? "PyThreadState_GetUnchecked" : "_PyThreadState_UncheckedGet");
        PyRun_String = (delegate* unmanaged<byte*, int, IntPtr, IntPtr, IntPtr>)Get("PyRun_String");
        PyEval_GetBuiltins = (delegate* unmanaged<IntPtr>)Get("PyEval_GetBuiltins");
        PyDict_GetItemString = (delegate* unmanaged<IntPtr, byte*, IntPtr>)Get("PyDict_GetItemString");
        PyDict_SetItemString = (delegate* unmanaged<IntPtr, byte*, IntPtr, int>)Get("PyDict_SetItemString");
        if (Has("Py_NewInterpreterFromConfig"))
        {
            Py_NewInterpreterFromConfig = (delegate* unmanaged<IntPtr*, PyInterpreterConfig*, PyStatus>)Get("Py_NewInterpreterFromConfig");
        }
        Py_EndInterpreter = (delegate* unmanaged<IntPtr, void>)Get("Py_EndInterpreter");
        PyGILState_GetThisThreadState = (delegate* unmanaged<IntPtr>)Get("PyGILState_GetThisThreadState");
        PyThreadState_Clear = (delegate* unmanaged<IntPtr, void>)Get("PyThreadState_Clear");
        PyThreadState_DeleteCurrent = (delegate* unmanaged<void>)Get("PyThreadState_DeleteCurrent");
        Loaded = true;
    }

    /// <summary>The name of the "is the interpreter finalizing" function: <c>Py_IsFinalizing</c> from
    /// CPython 3.13 (stable ABI, so also in 3.14 and 3.15), <c>_Py_IsFinalizing</c> in 3.11 and 3.12,
    /// whose private name 3.13 removed.</summary>
    internal static string FinalizingFunction(Func<string, bool> hasExport) =>
        hasExport("Py_IsFinalizing") ? "Py_IsFinalizing" : "_Py_IsFinalizing";

    /// <summary>True for a free-threaded build (<c>Py_GIL_DISABLED</c>): only it exports the
    /// functions that its inline <c>Py_DECREF</c> calls (<c>Include/object.h</c>, 3.13 to 3.15).</summary>
    internal static bool IsFreeThreaded(Func<string, bool> hasExport) =>
        hasExport("_Py_MergeZeroLocalRefcount") || hasExport("_Py_DecRefShared");

    /// <summary>True when the calling thread has a current (attached) thread state, so holds the GIL of
    /// that thread state's interpreter. Unlike <c>PyGILState_Check</c>, which CPython turns into
    /// "always true" once a subinterpreter exists (3.12, 3.13), and which knows only the main
    /// interpreter. On 3.11, which has no such subinterpreters, the current thread state is one
    /// for the whole runtime (whichever thread holds the GIL), so <c>PyGILState_Check</c> it is.</summary>
    public static bool HoldsGil => Py_NewInterpreterFromConfig != null
        ? s_currentThreadState() != IntPtr.Zero
        : PyGILState_Check() != 0;

    /// <summary>True while or after the interpreter finalizes: no thread may take the GIL then
    /// (CPython would end the thread).</summary>
    public static bool IsFinalizing => s_shutDown || Py_IsInitialized() == 0 || s_isFinalizing() != 0;

    private static volatile bool s_shutDown;

    /// <summary>Refuses Python calls from now on (<see cref="IsFinalizing"/> true): a C#-hosted
    /// interpreter that was stopped without being finalized.</summary>
    public static void MarkShutDown() => s_shutDown = true;

    /// <summary>The type flags that mark the builtin types and their subclasses (<c>Py_TPFLAGS_*_SUBCLASS</c>,
    /// Include/object.h), which C's <c>PyLong_Check</c>, <c>PyList_Check</c>... read.</summary>
    public const ulong LongSubclassFlag = 1UL << 24, ListSubclassFlag = 1UL << 25, TupleSubclassFlag = 1UL << 26,
        BytesSubclassFlag = 1UL << 27, UnicodeSubclassFlag = 1UL << 28, DictSubclassFlag = 1UL << 29;

    /// <summary>True when the type of <paramref name="obj"/> has any of <paramref name="flags"/>
    /// (<see cref="LongSubclassFlag"/>...): C's <c>PyXxx_Check</c> macros.</summary>
    public static bool HasTypeFlags(IntPtr obj, ulong flags) => (PyType_GetFlags(TypeOf(obj)) & flags) != 0;

    /// <summary><c>PyList_Check</c> (a macro in C: the type's flags).</summary>
    public static bool PyList_Check(IntPtr obj) => HasTypeFlags(obj, ListSubclassFlag);

    /// <summary><c>PyTuple_Check</c> (a macro in C: the type's flags).</summary>
    public static bool PyTuple_Check(IntPtr obj) => HasTypeFlags(obj, TupleSubclassFlag);

    /// <summary><c>PyByteArray_Check</c> (a macro in C).</summary>
    public static bool PyByteArray_Check(IntPtr obj) =>
        TypeOf(obj) == ByteArrayType || PyType_IsSubtype(TypeOf(obj), ByteArrayType) != 0;

    /// <summary>NULL for Python's None (optional arguments from ctypes arrive as None).</summary>
    public static IntPtr NullIfNone(IntPtr obj) => obj == None ? IntPtr.Zero : obj;

    /// <summary>A new reference to <paramref name="obj"/>, or to None for NULL (ctypes' py_object
    /// return type takes ownership of one reference).</summary>
    public static IntPtr NewRef(IntPtr obj)
    {
        obj = obj == IntPtr.Zero ? None : obj;
        Py_IncRef(obj);
        return obj;
    }

    /// <summary>A new str object from a .NET string (new reference).</summary>
    public static IntPtr NewString(string value)
    {
        int max = System.Text.Encoding.UTF8.GetMaxByteCount(value.Length);
        Span<byte> buffer = max <= 512 ? stackalloc byte[max] : new byte[max];
        int n = System.Text.Encoding.UTF8.GetBytes(value, buffer);
        fixed (byte* p = buffer)
        {
            return PyUnicode_FromStringAndSize(p, n);
        }
    }

    /// <summary>A new reference to the module <paramref name="name"/> (<c>import name</c>), or NULL
    /// with the error set.</summary>
    public static IntPtr Import(string name)
    {
        byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(name + "\0");
        fixed (byte* p = utf8)
        {
            return PyImport_ImportModule(p);
        }
    }

    /// <summary>A new reference to <c>getattr(obj, name)</c>, or NULL with the error set.</summary>
    public static IntPtr GetAttr(IntPtr obj, string name)
    {
        byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(name + "\0");
        fixed (byte* p = utf8)
        {
            return PyObject_GetAttrString(obj, p);
        }
    }

    /// <summary>The text of a str object (borrowed), or <c>null</c> on error (cleared).</summary>
    public static string? ReadString(IntPtr str)
    {
        nint size;
        byte* p = PyUnicode_AsUTF8AndSize(str, &size);
        if (p == null)
        {
            PyErr_Clear();
            return null;
        }
        return System.Text.Encoding.UTF8.GetString(p, (int)size);
    }

    /// <summary>The object's type (<c>ob_type</c>, which follows <c>ob_refcnt</c>), borrowed.</summary>
    public static IntPtr TypeOf(IntPtr obj) => *(IntPtr*)(obj + IntPtr.Size);

    /// <summary>A new bytes object holding a copy of <paramref name="bytes"/> (new reference), or NULL
    /// with the error set.</summary>
    public static IntPtr NewBytes(ReadOnlySpan<byte> bytes)
    {
        fixed (byte* p = bytes)
        {
            return PyBytes_FromStringAndSize(p, bytes.Length);
        }
    }

    /// <summary>A copy of the contents of the bytes object <paramref name="obj"/> (borrowed).</summary>
    /// <exception cref="InvalidCastException"><paramref name="obj"/> is not bytes (the Python error is cleared).</exception>
    public static byte[] ReadBytes(IntPtr obj)
    {
        byte* p;
        nint n;
        if (PyBytes_AsStringAndSize(obj, &p, &n) != 0)
        {
            PyErr_Clear();
            throw NotConvertible(obj, nameof(Byte) + "[]");
        }
        return new ReadOnlySpan<byte>(p, (int)n).ToArray();
    }

    /// <summary>The error for a Python object (borrowed) that does not convert to the .NET type named
    /// <paramref name="target"/>, naming the object's Python type.</summary>
    public static InvalidCastException NotConvertible(IntPtr obj, string target)
    {
        IntPtr name = GetAttr(TypeOf(obj), "__qualname__");
        string pyType = name == IntPtr.Zero ? "?" : ReadString(name) ?? "?";
        if (name != IntPtr.Zero)
        {
            Py_DecRef(name);
        }
        else
        {
            PyErr_Clear();
        }
        return new InvalidCastException($"cannot convert a Python '{pyType}' to {target}");
    }
}

/// <summary>CPython's <c>PyInterpreterConfig</c> (<c>Include/cpython/pylifecycle.h</c>): the same
/// seven ints in 3.12 and 3.13.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PyInterpreterConfig
{
    public int UseMainObmalloc;
    public int AllowFork;
    public int AllowExec;
    public int AllowThreads;
    public int AllowDaemonThreads;
    public int CheckMultiInterpExtensions;
    public int Gil;

    /// <summary><c>PyInterpreterConfig_OWN_GIL</c>.</summary>
    public const int OwnGil = 2;

    /// <summary>CPython's <c>_PyInterpreterConfig_INIT</c>, what 3.14's
    /// <c>InterpreterPoolExecutor</c> uses (<c>concurrent.interpreters.create()</c>): its own GIL and
    /// allocator, no fork or exec, threads but no daemon threads, only extension modules that support
    /// subinterpreters.</summary>
    public static PyInterpreterConfig Isolated => new()
    {
        UseMainObmalloc = 0,
        AllowFork = 0,
        AllowExec = 0,
        AllowThreads = 1,
        AllowDaemonThreads = 0,
        CheckMultiInterpExtensions = 1,
        Gil = OwnGil,
    };
}

/// <summary>CPython's <c>PyStatus</c> (<c>Include/cpython/initconfig.h</c>), returned by value.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct PyStatus
{
    public int Type;
    public byte* Func;
    public byte* ErrMsg;
    public int ExitCode;
}
