using System.Collections;
using CsFutures.Interop.CPython;
using Python.Runtime;

namespace CsFutures.Interop.Runtime;

/// <summary>
/// The one way .NET code of the bridge calls Python: <c>fn(*args, **kwargs)</c> with .NET values.
/// It builds the argument tuple (and keyword dict) with <see cref="PythonConvert"/>, calls, converts
/// the result, releases every reference it made, success or not, and turns a Python error into
/// <see cref="PythonRaisedException"/>. Used by <see cref="PythonWorkItem{T}"/>, the runtime and the
/// process pool (pickling a call, decoding a reply). Every member requires the GIL.
/// </summary>
internal static unsafe class PythonCall
{
    /// <summary><c>callable(*args, **kwargs)</c>, the result converted to <typeparamref name="T"/>
    /// (see <see cref="PythonConvert"/>).</summary>
    /// <param name="callable">A borrowed reference to the Python callable.</param>
    /// <param name="args">The positional arguments, .NET values converted by <see cref="PythonConvert.ToPython"/>.</param>
    /// <param name="kwargs">The keyword arguments, or <c>null</c>.</param>
    /// <exception cref="PythonRaisedException">Python raised (building an argument or in the call).</exception>
    /// <exception cref="InvalidCastException">The result does not convert to <typeparamref name="T"/>.</exception>
    public static T Invoke<T>(IntPtr callable, ReadOnlySpan<object?> args, IReadOnlyDictionary<string, object?>? kwargs = null)
    {
        IntPtr result = InvokeRaw(callable, args, kwargs);
        try
        {
            return PythonConvert.FromPython<T>(result);
        }
        finally
        {
            PyApi.Py_DecRef(result);
        }
    }

    /// <summary><c>callable(*args, **kwargs)</c> with .NET arguments: a new reference to the result.</summary>
    /// <exception cref="PythonRaisedException">Python raised (building an argument or in the call).</exception>
    public static IntPtr InvokeRaw(IntPtr callable, ReadOnlySpan<object?> args, IReadOnlyDictionary<string, object?>? kwargs = null)
    {
        IntPtr tuple = PyApi.PyTuple_New(args.Length);
        if (tuple == IntPtr.Zero)
        {
            throw PythonErrors.FetchRaised();
        }
        IntPtr dict = IntPtr.Zero;
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                PyApi.PyTuple_SetItem(tuple, i, PythonConvert.ToPython(args[i])); // steals
            }
            if (kwargs is { Count: > 0 })
            {
                dict = PythonConvert.ToPython(kwargs as IDictionary ?? kwargs.ToDictionary(kv => kv.Key, kv => kv.Value));
            }
            IntPtr result = PyApi.PyObject_Call(callable, tuple, dict);
            return result == IntPtr.Zero ? throw PythonErrors.FetchRaised() : result;
        }
        finally
        {
            PyApi.Py_DecRef(tuple); // a slot left NULL by a failed conversion is skipped by the tuple's dealloc
            if (dict != IntPtr.Zero)
            {
                PyApi.Py_DecRef(dict);
            }
        }
    }

    /// <summary>Owns a new reference returned by the C API, or raises the pending Python error as
    /// <see cref="PythonRaisedException"/> when it is NULL.</summary>
    public static PyObject Own(IntPtr obj) => obj == IntPtr.Zero ? throw PythonErrors.FetchRaised() : PyObjects.Steal(obj);

    /// <summary>Runs pythonnet code, turning its <see cref="PythonException"/> into ours (the same
    /// Python exception object, described at once).</summary>
    public static TResult Translating<TResult>(Func<TResult> body)
    {
        try
        {
            return body();
        }
        catch (PythonException ex)
        {
            throw PythonErrors.FromPythonNet(ex);
        }
    }
}
