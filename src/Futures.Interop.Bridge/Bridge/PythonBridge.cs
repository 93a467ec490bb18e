using CsFutures.Interop.CPython;

namespace CsFutures.Interop.Bridge;

/// <summary>
/// What the bridge knows about the interpreter it serves: the stdlib exception classes that .NET
/// exceptions become, and the Python-side hooks of the <c>cs_futures</c> package. Set once by
/// <see cref="Configure"/> (from the Python package's start-up, under the GIL); the references are
/// kept for the life of the process.
/// </summary>
internal static unsafe class PythonBridge
{
    /// <summary>The members of the configuration tuple. The order is this enum's: the Python package reads
    /// these names and values from the bridge's description and builds the tuple in this order
    /// (<c>cs_futures/_bridge.py</c>, <c>start</c>).</summary>
    internal enum Slot
    {
        CancelledError,
        TimeoutError,
        InvalidStateError,
        BrokenExecutor,
        BrokenThreadPool,
        BrokenProcessPool,
        RuntimeError,
        ValueError,
        DescribeException,
        WorkerStarted,
        WorkerStopping,
        Pending,
        Raised,
        Cancelled,
        Foreign,
        BrokenInterpreterPool,
        Count,
    }

    private static IntPtr[] s_slots = Array.Empty<IntPtr>();

    public static bool IsReady => s_slots.Length == (int)Slot.Count;

    /// <summary>Keeps the configuration tuple's items (new references, never released).</summary>
    public static void Configure(IntPtr config)
    {
        if (PyApi.PyTuple_Size(config) != (int)Slot.Count)
        {
            throw new ArgumentException($"the bridge configuration must have {(int)Slot.Count} items");
        }
        var slots = new IntPtr[(int)Slot.Count];
        for (int i = 0; i < slots.Length; i++)
        {
            slots[i] = PyApi.PyTuple_GetItem(config, i);
            PyApi.Py_IncRef(slots[i]);
        }
        s_slots = slots;
    }

    /// <summary>Marker objects that the outcome call returns instead of a value (borrowed).</summary>
    public static IntPtr PendingMarker => s_slots[(int)Slot.Pending];

    public static IntPtr RaisedMarker => s_slots[(int)Slot.Raised];

    public static IntPtr CancelledMarker => s_slots[(int)Slot.Cancelled];

    /// <summary>The result is a .NET value (from a .NET callable): Python reads it through pythonnet.</summary>
    public static IntPtr ForeignMarker => s_slots[(int)Slot.Foreign];

    /// <summary>The stdlib class of a .NET exception (borrowed): CPython's exception for each engine
    /// exception, <c>RuntimeError</c> for other invalid operations, <c>ValueError</c> for bad arguments.</summary>
    public static IntPtr ExceptionClassFor(Exception exception) => s_slots[(int)(exception switch
    {
        CancelledException => Slot.CancelledError,
        TimeoutException => Slot.TimeoutError,
        InvalidStateException => Slot.InvalidStateError,
        BrokenInterpreterPoolException => Slot.BrokenInterpreterPool,
        BrokenThreadPoolException => Slot.BrokenThreadPool,
        BrokenProcessPoolException => Slot.BrokenProcessPool,
        BrokenExecutorException => Slot.BrokenExecutor,
        ArgumentException => Slot.ValueError,
        _ => Slot.RuntimeError,
    })];

    /// <summary>(type name, message, formatted traceback) of a Python exception, by the package's
    /// describe hook; when the bridge is not configured (a C#-hosted interpreter), by calling Python's
    /// <c>traceback</c> module directly. The caller holds the GIL.</summary>
    public static (string, string, string) DescribeException(IntPtr exception)
    {
        if (!IsReady)
        {
            return DescribeWithTraceback(exception);
        }
        IntPtr result = PyApi.PyObject_CallOneArg(s_slots[(int)Slot.DescribeException], exception);
        if (result == IntPtr.Zero)
        {
            PyApi.PyErr_Clear();
            return ("BaseException", "", "");
        }
        try
        {
            return (PyApi.ReadString(PyApi.PyTuple_GetItem(result, 0)) ?? "",
                PyApi.ReadString(PyApi.PyTuple_GetItem(result, 1)) ?? "",
                PyApi.ReadString(PyApi.PyTuple_GetItem(result, 2)) ?? "");
        }
        finally
        {
            PyApi.Py_DecRef(result);
        }
    }

    /// <summary><c>(type(exc).__qualname__, str(exc), "".join(traceback.format_exception(exc)))</c>
    /// without the package's hook. Errors while describing are cleared, not raised.</summary>
    private static (string, string, string) DescribeWithTraceback(IntPtr exception)
    {
        string type = "BaseException", message = "", traceback = "";
        IntPtr name = PyApi.GetAttr(PyApi.TypeOf(exception), "__qualname__");
        if (name != IntPtr.Zero)
        {
            type = PyApi.ReadString(name) ?? type;
            PyApi.Py_DecRef(name);
        }
        IntPtr str = PyApi.PyObject_Str(exception);
        if (str != IntPtr.Zero)
        {
            message = PyApi.ReadString(str) ?? "";
            PyApi.Py_DecRef(str);
        }
        IntPtr module = PyApi.Import("traceback");
        IntPtr format = module == IntPtr.Zero ? IntPtr.Zero : PyApi.GetAttr(module, "format_exception");
        IntPtr lines = format == IntPtr.Zero ? IntPtr.Zero : PyApi.PyObject_CallOneArg(format, exception);
        if (lines != IntPtr.Zero)
        {
            var text = new System.Text.StringBuilder();
            nint n = PyApi.PyList_Size(lines);
            for (nint i = 0; i < n; i++)
            {
                text.Append(PyApi.ReadString(PyApi.PyList_GetItem(lines, i)));
            }
            traceback = text.ToString();
        }
        foreach (IntPtr p in new[] { lines, format, module })
        {
            if (p != IntPtr.Zero)
            {
                PyApi.Py_DecRef(p);
            }
        }
        if (PyApi.PyErr_Occurred() != IntPtr.Zero)
        {
            PyApi.PyErr_Clear();
        }
        return (type, message, traceback);
    }

    /// <summary>Calls a hook with one str argument; an exception it raises is printed, not lost.
    /// Does nothing when the bridge is not configured (a C#-hosted interpreter has no hooks).</summary>
    public static void CallHook(bool started, string argument)
    {
        if (!IsReady)
        {
            if (started)
            {
                NameCurrentThread(argument);
            }
            return;
        }
        IntPtr hook = s_slots[(int)(started ? Slot.WorkerStarted : Slot.WorkerStopping)];
        IntPtr arg = PyApi.NewString(argument);
        IntPtr result = PyApi.PyObject_CallOneArg(hook, arg);
        PyApi.Py_DecRef(arg);
        if (result == IntPtr.Zero)
        {
            PyApi.PyErr_Print();
        }
        else
        {
            PyApi.Py_DecRef(result);
        }
    }

    /// <summary>Without the package's hooks (a C#-hosted interpreter): <c>threading.current_thread().name =
    /// name</c>, so that tasks and logging's <c>%(threadName)s</c> see the pool thread's name instead of
    /// <c>Dummy-N</c>. Failures are printed, never raised.</summary>
    private static unsafe void NameCurrentThread(string name)
    {
        IntPtr threading = PyApi.Import("threading");
        IntPtr currentThread = threading == IntPtr.Zero ? IntPtr.Zero : PyApi.GetAttr(threading, "current_thread");
        IntPtr thread = currentThread == IntPtr.Zero ? IntPtr.Zero : PyApi.PyObject_CallNoArgs(currentThread);
        IntPtr value = PyApi.NewString(name);
        bool ok = thread != IntPtr.Zero;
        if (ok)
        {
            fixed (byte* attribute = "name\0"u8)
            {
                ok = PyApi.PyObject_SetAttrString(thread, attribute, value) == 0;
            }
        }
        if (!ok)
        {
            PyApi.PyErr_Print();
        }
        foreach (IntPtr reference in new[] { value, thread, currentThread, threading })
        {
            if (reference != IntPtr.Zero)
            {
                PyApi.Py_DecRef(reference);
            }
        }
    }
}
