using CsFutures.Interop.CPython;

namespace CsFutures.Interop;

/// <summary>
/// What the bridge knows about the interpreter it serves: the stdlib exception classes that .NET
/// exceptions become, and the Python-side hooks of the <c>cs_futures</c> package. Set once by
/// <see cref="Configure"/> (from the Python package's start-up, under the GIL); the references are
/// kept for the life of the process.
/// </summary>
internal static unsafe class PythonBridge
{
    /// <summary>The members of the configuration tuple, in the order the Python package passes them
    /// (<c>cs_futures/_bridge.py</c>, <c>_configure</c>).</summary>
    private enum Slot
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

    public static IntPtr TypeOf(IntPtr obj) => *(IntPtr*)(obj + IntPtr.Size); // ob_type follows ob_refcnt

    /// <summary>The stdlib class of a .NET exception (borrowed): CPython's exception for each engine
    /// exception, <c>RuntimeError</c> for other invalid operations, <c>ValueError</c> for bad arguments.</summary>
    public static IntPtr ExceptionClassFor(Exception exception) => s_slots[(int)(exception switch
    {
        CancelledException => Slot.CancelledError,
        TimeoutException => Slot.TimeoutError,
        InvalidStateException => Slot.InvalidStateError,
        BrokenThreadPoolException => Slot.BrokenThreadPool,
        BrokenProcessPoolException => Slot.BrokenProcessPool,
        BrokenExecutorException => Slot.BrokenExecutor,
        ArgumentException => Slot.ValueError,
        _ => Slot.RuntimeError,
    })];

    /// <summary>(type name, message, formatted traceback) of a Python exception, by the package's
    /// describe hook. The caller holds the GIL.</summary>
    public static (string, string, string) DescribeException(IntPtr exception)
    {
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

    /// <summary>Calls a hook with one str argument; an exception it raises is printed, not lost.</summary>
    public static void CallHook(bool started, string argument)
    {
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
}
