using System.Runtime.InteropServices;
using System.Text;

namespace CsFutures.Interop.CPython;

/// <summary>
/// The isolated subinterpreter that an interpreter-pool worker thread owns for its lifetime
/// (CPython 3.14's <c>InterpreterPoolExecutor</c> model, on 3.12 and later): created with its own
/// GIL (<see cref="PyInterpreterConfig.Isolated"/>) at the worker's first task, ended when the worker
/// exits (<see cref="EndCurrent"/>). Only bytes cross: the caller's interpreter pickles a call,
/// <see cref="Run"/> hands the bytes to the subinterpreter's <c>run(body) -> bytes</c> (defined by
/// the bootstrap code the pool gives) and returns its bytes. No object of one interpreter is ever
/// touched under the other's GIL.
/// </summary>
internal static unsafe class SubInterpreter
{
    private const int PyFileInput = 257; // Py_file_input

    [ThreadStatic]
    private static string? t_bootstrap;

    [ThreadStatic]
    private static IntPtr t_threadState;

    [ThreadStatic]
    private static IntPtr t_run;

    [ThreadStatic]
    private static IntPtr t_stop; // the bootstrap's stop(), if it defines one: called before the interpreter ends

    /// <summary>The Python version that introduced <c>Py_NewInterpreterFromConfig</c> with a GIL per
    /// interpreter.</summary>
    public const string RequiredVersion = "3.12";

    /// <summary>True when the loaded CPython can create isolated interpreters with their own GIL.</summary>
    public static bool Supported => PyApi.Py_NewInterpreterFromConfig != null;

    /// <summary>The error for an interpreter without <c>Py_NewInterpreterFromConfig</c> (3.11).</summary>
    public static NotSupportedException NotSupported() => new(
        "InterpreterPoolExecutor needs CPython " + RequiredVersion + " or newer (isolated subinterpreters "
        + "with their own GIL, Py_NewInterpreterFromConfig); this interpreter does not have them. Use "
        + "ProcessPoolExecutor for parallel Python on this version");

    /// <summary>Marks the calling worker thread as an interpreter-pool worker whose subinterpreter
    /// runs <paramref name="bootstrap"/> (Python source defining <c>run(body) -> bytes</c>, and
    /// optionally <c>stop()</c>, called before the interpreter ends; it finds the thread's name in
    /// <c>thread_name</c>) when it is created.</summary>
    public static void Prepare(string bootstrap) => t_bootstrap = bootstrap;

    /// <summary>Runs <c>run(payload)</c> in this thread's subinterpreter, creating it first if needed,
    /// and returns its bytes. The calling thread must hold no GIL (no current thread state).</summary>
    /// <exception cref="NotSupportedException">CPython older than 3.12.</exception>
    /// <exception cref="InvalidOperationException">The subinterpreter could not be created, or
    /// <c>run</c> failed in a way the bootstrap did not report as bytes.</exception>
    public static byte[] Run(byte* payload, nint length)
    {
        if (PyApi.HoldsGil)
        {
            throw new InvalidOperationException("SubInterpreter.Run needs a thread without a current thread state");
        }
        if (t_threadState == IntPtr.Zero)
        {
            Create();
        }
        PyApi.PyEval_RestoreThread(t_threadState);
        try
        {
            IntPtr body = PyApi.PyBytes_FromStringAndSize(payload, length);
            if (body == IntPtr.Zero)
            {
                throw new InvalidOperationException("subinterpreter: " + FetchError());
            }
            IntPtr reply = PyApi.PyObject_CallOneArg(t_run, body);
            PyApi.Py_DecRef(body);
            if (reply == IntPtr.Zero)
            {
                throw new InvalidOperationException("subinterpreter: " + FetchError());
            }
            try
            {
                byte* data;
                nint size;
                if (PyApi.PyBytes_AsStringAndSize(reply, &data, &size) != 0)
                {
                    throw new InvalidOperationException("subinterpreter: " + FetchError());
                }
                return new ReadOnlySpan<byte>(data, checked((int)size)).ToArray();
            }
            finally
            {
                PyApi.Py_DecRef(reply);
            }
        }
        finally
        {
            t_threadState = PyApi.PyEval_SaveThread();
        }
    }

    /// <summary>Ends this thread's subinterpreter, if it has one (the worker is exiting). The calling
    /// thread must hold no GIL. Skipped once the main interpreter finalizes.</summary>
    public static void EndCurrent()
    {
        t_bootstrap = null;
        IntPtr threadState = t_threadState;
        if (threadState == IntPtr.Zero)
        {
            return;
        }
        t_threadState = IntPtr.Zero;
        if (PyApi.IsFinalizing)
        {
            return;
        }
        PyApi.PyEval_RestoreThread(threadState);
        if (t_stop != IntPtr.Zero)
        {
            IntPtr stopped = PyApi.PyObject_CallNoArgs(t_stop);
            if (stopped == IntPtr.Zero)
            {
                PyApi.PyErr_Clear(); // the interpreter ends anyway
            }
            PyApi.Py_DecRef(stopped);
            PyApi.Py_DecRef(t_stop);
            t_stop = IntPtr.Zero;
        }
        PyApi.Py_DecRef(t_run);
        t_run = IntPtr.Zero;
        PyApi.Py_EndInterpreter(threadState); // leaves no current thread state
    }

    private static void Create()
    {
        if (!Supported)
        {
            throw NotSupported();
        }
        string bootstrap = t_bootstrap
            ?? throw new InvalidOperationException("this thread is not an interpreter-pool worker");
        // CPython (3.13) may make the new interpreter's thread state this thread's PyGILState one:
        // from now on the worker takes the main GIL with its own thread state, never through
        // PyGILState_Ensure (PythonThreads.AcquireOwnState), or main-interpreter code would run in
        // the subinterpreter.
        var config = PyInterpreterConfig.Isolated;
        IntPtr threadState = IntPtr.Zero;
        PyStatus status = PyApi.Py_NewInterpreterFromConfig(&threadState, &config);
        if (status.Type != 0 || threadState == IntPtr.Zero)
        {
            string why = status.ErrMsg == null ? "unknown error" : Marshal.PtrToStringUTF8((IntPtr)status.ErrMsg) ?? "";
            throw new InvalidOperationException("could not create an isolated subinterpreter: " + why);
        }
        // The new interpreter's thread state is current and holds its GIL.
        try
        {
            t_run = RunBootstrap(bootstrap);
        }
        catch
        {
            PyApi.Py_EndInterpreter(threadState);
            throw;
        }
        t_threadState = PyApi.PyEval_SaveThread();
    }

    /// <summary>Executes the bootstrap in a fresh namespace, where <c>thread_name</c> is the worker
    /// thread's name; returns a new reference to its <c>run</c>.</summary>
    private static IntPtr RunBootstrap(string bootstrap)
    {
        IntPtr globals = PyApi.PyDict_New();
        try
        {
            fixed (byte* name = "__builtins__\0"u8)
            {
                PyApi.PyDict_SetItemString(globals, name, PyApi.PyEval_GetBuiltins());
            }
            IntPtr threadName = PyApi.NewString(Thread.CurrentThread.Name ?? "");
            if (threadName == IntPtr.Zero)
            {
                throw new InvalidOperationException("subinterpreter: " + FetchError());
            }
            fixed (byte* name = "thread_name\0"u8)
            {
                PyApi.PyDict_SetItemString(globals, name, threadName);
            }
            PyApi.Py_DecRef(threadName);
            byte[] code = Encoding.UTF8.GetBytes(bootstrap + "\0");
            IntPtr result;
            fixed (byte* p = code)
            {
                result = PyApi.PyRun_String(p, PyFileInput, globals, globals);
            }
            if (result == IntPtr.Zero)
            {
                throw new InvalidOperationException("the interpreter pool's bootstrap failed in the subinterpreter: " + FetchError());
            }
            PyApi.Py_DecRef(result);
            IntPtr run;
            fixed (byte* name = "run\0"u8.ToArray())
            {
                run = PyApi.PyDict_GetItemString(globals, name);
            }
            if (run == IntPtr.Zero)
            {
                throw new InvalidOperationException("the interpreter pool's bootstrap defines no run()");
            }
            PyApi.Py_IncRef(run);
            fixed (byte* name = "stop\0"u8)
            {
                t_stop = PyApi.PyDict_GetItemString(globals, name); // borrowed, or null: optional
            }
            PyApi.Py_IncRef(t_stop);
            return run;
        }
        finally
        {
            PyApi.Py_DecRef(globals);
        }
    }

    /// <summary>The pending error of the current interpreter as text (cleared).</summary>
    private static string FetchError()
    {
        IntPtr type, value, traceback;
        PyApi.PyErr_Fetch(&type, &value, &traceback);
        try
        {
            IntPtr shown = value != IntPtr.Zero ? value : type;
            if (shown == IntPtr.Zero)
            {
                return "unknown error";
            }
            IntPtr text = PyApi.PyObject_Str(shown);
            if (text == IntPtr.Zero)
            {
                PyApi.PyErr_Clear();
                return "unprintable error";
            }
            string message = PyApi.ReadString(text) ?? "";
            PyApi.Py_DecRef(text);
            IntPtr typeName = type == IntPtr.Zero ? IntPtr.Zero : PyApi.GetAttr(type, "__name__");
            string name = typeName == IntPtr.Zero ? "" : PyApi.ReadString(typeName) ?? "";
            if (typeName == IntPtr.Zero)
            {
                PyApi.PyErr_Clear();
            }
            else
            {
                PyApi.Py_DecRef(typeName);
            }
            return name.Length == 0 ? message : name + ": " + message;
        }
        finally
        {
            foreach (IntPtr o in new[] { type, value, traceback })
            {
                if (o != IntPtr.Zero)
                {
                    PyApi.Py_DecRef(o);
                }
            }
        }
    }
}
