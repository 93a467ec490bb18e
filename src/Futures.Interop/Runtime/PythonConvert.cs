using System.Collections;
using System.Numerics;
using System.Runtime.CompilerServices;
using CsFutures.Interop.Bridge;
using CsFutures.Interop.CPython;
using Python.Runtime;

namespace CsFutures.Interop.Runtime;

/// <summary>
/// The conversions between .NET values and Python objects used when Python work runs on an executor
/// (<see cref="PythonExecutorExtensions"/>). Every member requires the GIL.
/// </summary>
/// <remarks>
/// <para><b>.NET to Python</b> (arguments): <c>null</c> -> <c>None</c>; <see cref="bool"/> -> <c>bool</c>;
/// <see cref="int"/>, <see cref="long"/> and the other integers, <see cref="BigInteger"/> -> <c>int</c>;
/// <see cref="double"/>, <see cref="float"/> -> <c>float</c>; <see cref="string"/>, <see cref="char"/> -> <c>str</c>;
/// <c>byte[]</c> -> <c>bytes</c>; <see cref="IDictionary"/> -> <c>dict</c> (keys and values converted);
/// any other <see cref="IEnumerable"/> -> <c>list</c>; a <see cref="PyObject"/> -> itself; anything else
/// -> the .NET object wrapped by pythonnet.</para>
/// <para><b>Python to .NET</b> (results), by the requested type: <see cref="long"/>/<see cref="int"/>/other
/// integers from <c>int</c> (<see cref="OverflowException"/> when it does not fit); <see cref="BigInteger"/>
/// from <c>int</c>; <see cref="double"/>/<see cref="float"/> from <c>float</c> or <c>int</c>;
/// <see cref="bool"/> from <c>bool</c>; <see cref="string"/> from <c>str</c>; <c>byte[]</c> from <c>bytes</c>;
/// <c>List&lt;T&gt;</c>, <c>IList&lt;T&gt;</c>, <c>IReadOnlyList&lt;T&gt;</c>, <c>T[]</c> from <c>list</c> or
/// <c>tuple</c>; <c>Dictionary&lt;K,V&gt;</c>, <c>IDictionary&lt;K,V&gt;</c>, <c>IReadOnlyDictionary&lt;K,V&gt;</c>
/// from <c>dict</c>; <c>Nullable&lt;T&gt;</c>, reference types and <see cref="object"/> accept <c>None</c>
/// as <c>null</c>; <see cref="PyObject"/> gives the object itself. <see cref="object"/> picks the natural
/// type: <c>bool</c> -> <see cref="bool"/>, <c>int</c> -> <see cref="long"/> (<see cref="BigInteger"/>
/// when larger), <c>float</c> -> <see cref="double"/>, <c>str</c> -> <see cref="string"/>, <c>bytes</c>
/// -> <c>byte[]</c>, <c>list</c>/<c>tuple</c> -> <c>List&lt;object?&gt;</c>, <c>dict</c> ->
/// <c>Dictionary&lt;object, object?&gt;</c>, anything else -> <see cref="PyObject"/>. Other types go
/// through pythonnet (<c>PyObject.AsManagedObject</c>). A value that does not convert gives
/// <see cref="InvalidCastException"/> (Python's <c>TypeError</c>).</para>
/// </remarks>
public static unsafe class PythonConvert
{
    private const ulong LongSubclass = PyApi.LongSubclassFlag, ListSubclass = PyApi.ListSubclassFlag,
        TupleSubclass = PyApi.TupleSubclassFlag, BytesSubclass = PyApi.BytesSubclassFlag,
        UnicodeSubclass = PyApi.UnicodeSubclassFlag, DictSubclass = PyApi.DictSubclassFlag;

    /// <summary>A new reference to the Python object for <paramref name="value"/> (see the class remarks).</summary>
    /// <exception cref="PythonRaisedException">Python raised while building it.</exception>
    public static IntPtr ToPython(object? value)
    {
        IntPtr result = value switch
        {
            null => PyApi.NewRef(PyApi.None),
            PyObject py => PyApi.NewRef(PyObjects.Address(py)),
            bool b => PyApi.NewRef(b ? PyApi.True : PyApi.False),
            int i => PyApi.PyLong_FromLongLong(i),
            long l => PyApi.PyLong_FromLongLong(l),
            short s => PyApi.PyLong_FromLongLong(s),
            sbyte sb => PyApi.PyLong_FromLongLong(sb),
            byte by => PyApi.PyLong_FromLongLong(by),
            ushort us => PyApi.PyLong_FromLongLong(us),
            uint ui => PyApi.PyLong_FromLongLong(ui),
            ulong ul when ul <= long.MaxValue => PyApi.PyLong_FromLongLong((long)ul),
            ulong ul => BigToPython(ul),
            BigInteger big => BigToPython(big),
            double d => PyApi.PyFloat_FromDouble(d),
            float f => PyApi.PyFloat_FromDouble(f),
            string str => PyApi.NewString(str),
            char c => PyApi.NewString(c.ToString()),
            byte[] bytes => PyApi.NewBytes(bytes),
            IDictionary dict => DictToPython(dict),
            IEnumerable items => ListToPython(items),
            _ => PyApi.NewRef(PyObjects.Address(value.ToPython())),
        };
        return result == IntPtr.Zero ? throw PythonErrors.FetchRaised() : result;
    }

    /// <summary>Converts a Python object (borrowed) to <typeparamref name="T"/> (see the class remarks).</summary>
    /// <exception cref="InvalidCastException">The object does not convert to <typeparamref name="T"/>.</exception>
    /// <exception cref="OverflowException">An <c>int</c> does not fit the integer type.</exception>
    public static T FromPython<T>(IntPtr obj)
    {
        if (typeof(T) == typeof(long))
        {
            long v = ToInt64(obj);
            return Unsafe.As<long, T>(ref v);
        }
        if (typeof(T) == typeof(int))
        {
            int v = checked((int)ToInt64(obj));
            return Unsafe.As<int, T>(ref v);
        }
        if (typeof(T) == typeof(double))
        {
            double v = ToDouble(obj);
            return Unsafe.As<double, T>(ref v);
        }
        return (T)FromPython(obj, typeof(T))!;
    }

    /// <summary>Converts a Python object (borrowed) to <paramref name="type"/> (see the class remarks).</summary>
    /// <exception cref="InvalidCastException">The object does not convert.</exception>
    public static object? FromPython(IntPtr obj, Type type)
    {
        if (obj == PyApi.None)
        {
            if (!type.IsValueType || Nullable.GetUnderlyingType(type) is not null)
            {
                return null;
            }
            throw Cast(obj, type);
        }
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(object))
        {
            return Natural(obj);
        }
        if (type == typeof(PyObject))
        {
            return PyObjects.Borrow(obj);
        }
        if (type == typeof(long)) return ToInt64(obj);
        if (type == typeof(int)) return checked((int)ToInt64(obj));
        if (type == typeof(short)) return checked((short)ToInt64(obj));
        if (type == typeof(byte)) return checked((byte)ToInt64(obj));
        if (type == typeof(uint)) return checked((uint)ToInt64(obj));
        if (type == typeof(ulong)) return checked((ulong)ToBig(obj));
        if (type == typeof(BigInteger)) return ToBig(obj);
        if (type == typeof(double)) return ToDouble(obj);
        if (type == typeof(float)) return (float)ToDouble(obj);
        if (type == typeof(bool))
        {
            if (obj == PyApi.True || obj == PyApi.False)
            {
                return obj == PyApi.True;
            }
            throw Cast(obj, type);
        }
        if (type == typeof(string))
        {
            return Has(obj, UnicodeSubclass) ? PyApi.ReadString(obj) : throw Cast(obj, type);
        }
        if (type == typeof(byte[]))
        {
            return Has(obj, BytesSubclass) ? PyApi.ReadBytes(obj) : throw Cast(obj, type);
        }
        if (type.IsArray && type.GetArrayRank() == 1)
        {
            var items = ReadSequence(obj, type.GetElementType()!, type);
            var array = Array.CreateInstance(type.GetElementType()!, items.Count);
            items.CopyTo(array, 0);
            return array;
        }
        if (type.IsGenericType)
        {
            var def = type.GetGenericTypeDefinition();
            var args = type.GetGenericArguments();
            if (def == typeof(List<>) || def == typeof(IList<>) || def == typeof(IReadOnlyList<>)
                || def == typeof(IEnumerable<>) || def == typeof(ICollection<>) || def == typeof(IReadOnlyCollection<>))
            {
                return ReadSequence(obj, args[0], type);
            }
            if (def == typeof(Dictionary<,>) || def == typeof(IDictionary<,>) || def == typeof(IReadOnlyDictionary<,>))
            {
                return ReadDict(obj, args[0], args[1], type);
            }
        }
        using var wrapped = PyObjects.Borrow(obj);
        try
        {
            return wrapped.AsManagedObject(type);
        }
        catch (Exception ex) when (ex is InvalidCastException or PythonException)
        {
            PyApi.PyErr_Clear();
            throw Cast(obj, type);
        }
    }

    private static object? Natural(IntPtr obj)
    {
        if (obj == PyApi.True || obj == PyApi.False) return obj == PyApi.True;
        if (Has(obj, LongSubclass))
        {
            long v = PyApi.PyLong_AsLongLong(obj);
            if (v == -1 && PyApi.PyErr_Occurred() != IntPtr.Zero)
            {
                PyApi.PyErr_Clear();
                return ToBig(obj);
            }
            return v;
        }
        if (PyApi.TypeOf(obj) == PyApi.FloatType) return PyApi.PyFloat_AsDouble(obj);
        if (Has(obj, UnicodeSubclass)) return PyApi.ReadString(obj);
        if (Has(obj, BytesSubclass)) return PyApi.ReadBytes(obj);
        if (Has(obj, ListSubclass | TupleSubclass)) return ReadSequence(obj, typeof(object), typeof(List<object?>));
        if (Has(obj, DictSubclass)) return ReadDict(obj, typeof(object), typeof(object), typeof(Dictionary<object, object?>));
        return PyObjects.Borrow(obj);
    }

    private static bool Has(IntPtr obj, ulong flags) => PyApi.HasTypeFlags(obj, flags);

    private static long ToInt64(IntPtr obj)
    {
        if (!Has(obj, LongSubclass))
        {
            throw Cast(obj, typeof(long));
        }
        long v = PyApi.PyLong_AsLongLong(obj);
        if (v == -1 && PyApi.PyErr_Occurred() != IntPtr.Zero)
        {
            PyApi.PyErr_Clear();
            throw new OverflowException("Python int too large to convert to a 64-bit integer");
        }
        return v;
    }

    private static double ToDouble(IntPtr obj)
    {
        if (PyApi.TypeOf(obj) != PyApi.FloatType && !Has(obj, LongSubclass))
        {
            throw Cast(obj, typeof(double));
        }
        double v = PyApi.PyFloat_AsDouble(obj);
        if (v == -1 && PyApi.PyErr_Occurred() != IntPtr.Zero)
        {
            PyApi.PyErr_Clear();
            throw Cast(obj, typeof(double));
        }
        return v;
    }

    private static BigInteger ToBig(IntPtr obj)
    {
        if (!Has(obj, LongSubclass))
        {
            throw Cast(obj, typeof(BigInteger));
        }
        IntPtr str = PyApi.PyObject_Str(obj);
        string text = PyApi.ReadString(str) ?? "0";
        PyApi.Py_DecRef(str);
        return BigInteger.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static IntPtr BigToPython(BigInteger value)
    {
        IntPtr builtins = PyApi.Import("builtins");
        IntPtr intType = PyApi.GetAttr(builtins, "int");
        IntPtr text = PyApi.NewString(value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        IntPtr result = PyApi.PyObject_CallOneArg(intType, text);
        PyApi.Py_DecRef(text);
        PyApi.Py_DecRef(intType);
        PyApi.Py_DecRef(builtins);
        return result;
    }

    private static IntPtr ListToPython(IEnumerable items)
    {
        var values = items.Cast<object?>().ToList();
        IntPtr list = PyApi.PyList_New(values.Count);
        for (int i = 0; i < values.Count; i++)
        {
            IntPtr item;
            try
            {
                item = ToPython(values[i]);
            }
            catch
            {
                PyApi.Py_DecRef(list);
                throw;
            }
            PyApi.PyList_SetItem(list, i, item); // steals
        }
        return list;
    }

    private static IntPtr DictToPython(IDictionary dict)
    {
        IntPtr result = PyApi.PyDict_New();
        foreach (DictionaryEntry entry in dict)
        {
            IntPtr key = IntPtr.Zero, value = IntPtr.Zero;
            try
            {
                key = ToPython(entry.Key);
                value = ToPython(entry.Value);
                if (PyApi.PyDict_SetItem(result, key, value) != 0)
                {
                    throw PythonErrors.FetchRaised();
                }
            }
            catch
            {
                PyApi.Py_DecRef(result);
                throw;
            }
            finally
            {
                if (key != IntPtr.Zero) PyApi.Py_DecRef(key);
                if (value != IntPtr.Zero) PyApi.Py_DecRef(value);
            }
        }
        return result;
    }

    private static IList ReadSequence(IntPtr obj, Type element, Type requested)
    {
        var list = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(element))!;
        if (Has(obj, ListSubclass))
        {
            nint n = PyApi.PyList_Size(obj);
            for (nint i = 0; i < n; i++)
            {
                list.Add(FromPython(PyApi.PyList_GetItem(obj, i), element));
            }
            return list;
        }
        if (Has(obj, TupleSubclass))
        {
            nint n = PyApi.PyTuple_Size(obj);
            for (nint i = 0; i < n; i++)
            {
                list.Add(FromPython(PyApi.PyTuple_GetItem(obj, i), element));
            }
            return list;
        }
        throw Cast(obj, requested);
    }

    private static IDictionary ReadDict(IntPtr obj, Type key, Type value, Type requested)
    {
        if (!Has(obj, DictSubclass))
        {
            throw Cast(obj, requested);
        }
        var dict = (IDictionary)Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(key, value))!;
        nint pos = 0;
        IntPtr k, v;
        while (PyApi.PyDict_Next(obj, &pos, &k, &v) != 0)
        {
            dict[FromPython(k, key)!] = FromPython(v, value);
        }
        return dict;
    }

    private static InvalidCastException Cast(IntPtr obj, Type type) => PyApi.NotConvertible(obj, type.Name);
}
