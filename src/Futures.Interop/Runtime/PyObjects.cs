using System.Linq.Expressions;
using System.Reflection;
using CsFutures.Interop.CPython;
using Python.Runtime;

namespace CsFutures.Interop.Runtime;

/// <summary>Moves references between our raw layer (<see cref="IntPtr"/>) and pythonnet's
/// <see cref="PyObject"/>. Every member requires the GIL.</summary>
/// <remarks>pythonnet 3 keeps its constructor from a raw pointer internal (<c>PyObject(IntPtr)</c>,
/// which takes ownership of one reference); it is reached once through reflection.</remarks>
internal static unsafe class PyObjects
{
    private static readonly Func<IntPtr, PyObject> s_steal = CreateSteal();

    /// <summary>The object's address, borrowed from <paramref name="obj"/> (which keeps it alive).</summary>
#pragma warning disable CS0612, CS0618 // Handle is the documented way to reach the raw pointer
    public static IntPtr Address(PyObject obj) => obj.Handle;
#pragma warning restore CS0612, CS0618

    /// <summary>A <see cref="PyObject"/> that takes over a new reference.</summary>
    public static PyObject Steal(IntPtr obj) => s_steal(obj);

    /// <summary>A <see cref="PyObject"/> with its own reference to a borrowed pointer.</summary>
    public static PyObject Borrow(IntPtr obj)
    {
        PyApi.Py_IncRef(obj);
        return s_steal(obj);
    }

    private static Func<IntPtr, PyObject> CreateSteal()
    {
        var ctor = typeof(PyObject).GetConstructor(BindingFlags.NonPublic | BindingFlags.Instance, new[] { typeof(IntPtr) })
            ?? throw new MissingMethodException("pythonnet's PyObject(IntPtr) constructor is missing (pythonnet version?)");
        var p = Expression.Parameter(typeof(IntPtr));
        return Expression.Lambda<Func<IntPtr, PyObject>>(Expression.New(ctor, p), p).Compile();
    }
}
