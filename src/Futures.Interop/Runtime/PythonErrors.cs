using CsFutures.Interop.Bridge;
using CsFutures.Interop.CPython;
using Python.Runtime;

namespace CsFutures.Interop.Runtime;

/// <summary>Python errors as <see cref="PythonRaisedException"/>, described at once (under the GIL).</summary>
internal static class PythonErrors
{
    /// <summary>Takes the pending Python error. The caller holds the GIL and knows one is set.</summary>
    public static PythonRaisedException FetchRaised()
    {
        PyRef error = PyErr.Fetch();
        return new PythonRaisedException(error, PythonBridge.DescribeException(error.Pointer));
    }

    /// <summary>pythonnet's exception as ours (same Python object). The caller holds the GIL.</summary>
    public static PythonRaisedException FromPythonNet(PythonException ex)
    {
        ex.Normalize();
        PyRef error = PyRef.Borrow(PyObjects.Address(ex.Value!));
        if (ex.Traceback is { } tb)
        {
            unsafe
            {
                PyApi.PyException_SetTraceback(error.Pointer, PyObjects.Address(tb));
            }
        }
        return new PythonRaisedException(error, PythonBridge.DescribeException(error.Pointer));
    }
}
