using CsFutures.Interop.CPython;

namespace CsFutures.Interop.Bridge;

/// <summary>
/// How entry points report a .NET exception instead of letting it end the process: "py" entries
/// set the Python error indicator (<see cref="Raise{T}"/>); "wait" entries, which must not touch
/// Python, keep it per thread and return <see cref="EntryCode.Failed"/> (<see cref="WaitFailed"/>),
/// and the Python package's next call, <c>last_error</c>, raises it.
/// </summary>
internal static unsafe class BridgeErrors
{
    [ThreadStatic]
    private static Exception? t_lastWaitError;

    /// <summary>Sets the Python error indicator from <paramref name="exception"/> and returns
    /// <paramref name="failure"/> (the entry's -1 or NULL). The caller holds the GIL. The stdlib class
    /// that the bridge maps the exception to; before the bridge is configured (or if that fails),
    /// <c>RuntimeError</c> or <c>ValueError</c> with the message. Never throws.</summary>
    public static T Raise<T>(Exception exception, T failure)
    {
        try
        {
            if (PyApi.PyErr_Occurred() != IntPtr.Zero)
            {
                PyApi.PyErr_Clear(); // a C API call's error on the way: the .NET exception says more
            }
            if (PythonBridge.IsReady)
            {
                PyErr.Raise(exception);
                if (PyApi.PyErr_Occurred() != IntPtr.Zero)
                {
                    return failure;
                }
            }
            RaiseBuiltin(exception is ArgumentException ? "ValueError" : "RuntimeError", exception.Message);
        }
        catch (Exception inner)
        {
            // Nothing can be raised in Python (the C API itself failed): say so where it is seen.
            Console.Error.WriteLine($"cs_futures: {exception}\n(while reporting it: {inner.Message})");
        }
        return failure;
    }

    /// <summary>Keeps <paramref name="exception"/> for <see cref="RaiseLastWaitError"/> on this
    /// thread and returns <see cref="EntryCode.Failed"/>. Touches no Python object.</summary>
    public static int WaitFailed(Exception exception)
    {
        t_lastWaitError = exception;
        return (int)EntryCode.Failed;
    }

    /// <summary>Raises (in Python) the exception that the last failed "wait" entry on this thread
    /// kept, and returns -1; 0 when there is none.</summary>
    public static int RaiseLastWaitError()
    {
        var exception = t_lastWaitError;
        t_lastWaitError = null;
        return exception is null ? 0 : Raise(exception, -1);
    }

    /// <summary>Raises Python's <c>TypeError</c> with <paramref name="message"/> (an argument of the
    /// wrong type or count in a call of the engine module) and returns NULL. The caller holds the GIL.</summary>
    public static IntPtr RaiseType(string message)
    {
        try
        {
            RaiseBuiltin("TypeError", message);
        }
        catch (Exception inner)
        {
            Console.Error.WriteLine($"cs_futures: TypeError: {message}\n(while reporting it: {inner.Message})");
        }
        return IntPtr.Zero;
    }

    private static void RaiseBuiltin(string className, string message)
    {
        IntPtr builtins = PyApi.Import("builtins");
        if (builtins == IntPtr.Zero)
        {
            return;
        }
        IntPtr cls = PyApi.GetAttr(builtins, className);
        PyApi.Py_DecRef(builtins);
        if (cls == IntPtr.Zero)
        {
            return;
        }
        IntPtr text = PyApi.NewString(message);
        IntPtr instance = PyApi.PyObject_CallOneArg(cls, text);
        PyApi.Py_DecRef(text);
        if (instance != IntPtr.Zero)
        {
            PyApi.PyErr_SetObject(cls, instance);
            PyApi.Py_DecRef(instance);
        }
        PyApi.Py_DecRef(cls);
    }
}
