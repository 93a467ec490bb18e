namespace CsFutures.Interop.CPython;

/// <summary>Calls of Python callables with arguments that are already Python objects (the raw layer;
/// <c>Runtime.PythonCall</c> converts .NET values). Every member requires the GIL.</summary>
internal static class PyCall
{
    /// <summary><c>callable(*args)</c> with arguments that are already Python objects: each is a new
    /// reference that this call steals (released whatever happens). Returns a new reference to the
    /// result, or <see cref="IntPtr.Zero"/> with the Python error set, for callers that handle the
    /// error themselves (e.g. onto a future).</summary>
    public static unsafe IntPtr CallStealing(IntPtr callable, ReadOnlySpan<IntPtr> args)
    {
        IntPtr tuple = PyApi.PyTuple_New(args.Length);
        if (tuple == IntPtr.Zero)
        {
            foreach (IntPtr arg in args)
            {
                if (arg != IntPtr.Zero)
                {
                    PyApi.Py_DecRef(arg);
                }
            }
            return IntPtr.Zero;
        }
        for (int i = 0; i < args.Length; i++)
        {
            PyApi.PyTuple_SetItem(tuple, i, args[i]); // steals
        }
        IntPtr result = PyApi.PyObject_Call(callable, tuple, IntPtr.Zero);
        PyApi.Py_DecRef(tuple);
        return result;
    }
}
