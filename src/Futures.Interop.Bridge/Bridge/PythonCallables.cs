using CsFutures.Interop.CPython;

namespace CsFutures.Interop.Bridge;

/// <summary>Python callables as .NET delegates.</summary>
internal static unsafe class PythonCallables
{
    /// <summary>A zero-argument Python callable as an <see cref="Action"/> that takes the GIL; a
    /// Python exception becomes <see cref="PythonRaisedException"/>.</summary>
    public static Action ToAction(IntPtr callable)
    {
        var fn = PyRef.Borrow(callable);
        return () =>
        {
            using (Gil.Acquire())
            {
                IntPtr result = PyApi.PyObject_CallNoArgs(fn.Pointer);
                if (result == IntPtr.Zero)
                {
                    throw new PythonRaisedException(PyErr.Fetch());
                }
                PyApi.Py_DecRef(result);
            }
        };
    }

    /// <summary>Calls a zero-argument Python callable once, under the GIL (the caller holds it), and
    /// releases it; an exception that escapes it is printed (<c>PyErr_Print</c>): the package's
    /// callables log the <c>Exception</c>s themselves, so only the rest reach this.</summary>
    public static void CallOnceAndRelease(PyRef fn)
    {
        IntPtr result = PyApi.PyObject_CallNoArgs(fn.Pointer);
        if (result == IntPtr.Zero)
        {
            PyApi.PyErr_Print();
        }
        else
        {
            PyApi.Py_DecRef(result);
        }
        fn.Dispose();
    }
}