using CsFutures.Interop.Bridge;

namespace CsFutures.Interop.CPython;

/// <summary>Moves exceptions across the bridge: the Python error indicator into a .NET exception,
/// and a .NET exception into the Python error indicator (the stdlib's own classes).</summary>
internal static unsafe class PyErr
{
    /// <summary>Takes the raised Python exception (normalized, with its traceback) out of the error
    /// indicator. The caller holds the GIL and knows that an exception is set.</summary>
    public static PyRef Fetch()
    {
        IntPtr type, value, tb;
        PyApi.PyErr_Fetch(&type, &value, &tb);
        PyApi.PyErr_NormalizeException(&type, &value, &tb);
        if (tb != IntPtr.Zero && value != IntPtr.Zero)
        {
            PyApi.PyException_SetTraceback(value, tb);
        }
        if (type != IntPtr.Zero)
        {
            PyApi.Py_DecRef(type);
        }
        if (tb != IntPtr.Zero)
        {
            PyApi.Py_DecRef(tb);
        }
        return PyRef.Steal(value) ?? throw new InvalidOperationException("no Python exception was set");
    }

    /// <summary>The Python exception object for a .NET exception (new reference): the original object
    /// for <see cref="PythonRaisedException"/>, else an instance of the mapped stdlib class.</summary>
    public static IntPtr ToPython(Exception exception)
    {
        if (exception is PythonRaisedException raised)
        {
            PyApi.Py_IncRef(raised.Exception.Pointer);
            return raised.Exception.Pointer;
        }
        IntPtr cls = PythonBridge.ExceptionClassFor(exception);
        IntPtr message = exception is CancelledException || exception is TimeoutException && exception.Message == new TimeoutException().Message
            ? IntPtr.Zero
            : PyApi.NewString(exception.Message);
        IntPtr result = message == IntPtr.Zero ? PyApi.PyObject_CallNoArgs(cls) : PyApi.PyObject_CallOneArg(cls, message);
        if (message != IntPtr.Zero)
        {
            PyApi.Py_DecRef(message);
        }
        return result;
    }

    /// <summary>Sets the Python error indicator from a .NET exception (the caller holds the GIL and
    /// returns to Python, which raises it).</summary>
    public static void Raise(Exception exception)
    {
        IntPtr instance = ToPython(exception);
        if (instance == IntPtr.Zero)
        {
            return; // creating it raised: that error is set
        }
        IntPtr type = PyApi.TypeOf(instance);
        PyApi.PyErr_SetObject(type, instance);
        PyApi.Py_DecRef(instance);
    }
}
