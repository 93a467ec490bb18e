using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CsFutures.Interop.CPython;

namespace CsFutures.Interop.Bridge;

/// <summary>
/// <c>cs_futures._engine.FutureBase</c>: the C base type of the package's <c>cs_futures.Future</c>
/// (which also derives from the standard library's <c>concurrent.futures.Future</c>, so that
/// <c>isinstance</c> holds). It keeps the future's handle (<see cref="Handles"/>) in a C field, the
/// attribute <c>_h</c>, and answers Python's <c>done()</c>, <c>running()</c> and <c>cancelled()</c>,
/// and <c>result()</c>/<c>exception()</c> of a finished future, as C methods: no Python frame and no
/// second call between the caller and the engine.
/// </summary>
/// <remarks>
/// <para>Made with <c>PyType_FromSpec</c> (stable ABI, 3.11 and later) when the engine module is.
/// The field is an unsigned 64-bit member (<c>Py_T_ULONGLONG</c>), 0 for "no handle" (no handle is
/// 0), so the type needs no deallocator of its own: CPython's (<c>subtype_dealloc</c>) frees it, and
/// no .NET code runs when a future is freed, which matters in a child made by <c>os.fork()</c>.</para>
/// <para><c>result(timeout=None)</c> and <c>exception(timeout=None)</c> answer here when the future
/// finished with a Python value (or, for <c>exception()</c>, a Python exception or none), waiting for a
/// pending one first (<see cref="WaitDone"/>); every other case (cancelled, raised, a .NET value, a timeout
/// that passed, other arguments, a future whose <c>_condition</c> Python code used) goes to the Python
/// methods <c>_result_slow</c> and <c>_exception_slow</c> with the same arguments, which raise as
/// CPython's do.</para>
/// </remarks>
internal static unsafe class FutureType
{
    private const int ObjectHeaderSize = 16;        // PyObject on the default (GIL) build, 64-bit: refcount, type
    private const int HandleOffset = ObjectHeaderSize;
    private const int ConditionFlagOffset = HandleOffset + sizeof(ulong);
    private const int PyTypeSlotDoc = 56;           // Py_tp_doc (Include/typeslots.h)
    private const int PyTypeSlotMethods = 64;       // Py_tp_methods
    private const int PyTypeSlotMembers = 72;       // Py_tp_members
    private const uint TypeFlags = (1u << 18) | (1u << 10); // Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE
    private const int MemberULongLong = 18;         // Py_T_ULONGLONG (Include/descrobject.h)
    private const int MemberBool = 14;              // Py_T_BOOL
    private const int MethNoArgs = 0x0004;
    private const int MethFastcallKeywords = 0x0080 | 0x0002; // METH_FASTCALL | METH_KEYWORDS

    [StructLayout(LayoutKind.Sequential)]
    private struct PyTypeSpec
    {
        public byte* Name;
        public int BasicSize;
        public int ItemSize;
        public uint Flags;
        public PyTypeSlot* Slots;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PyTypeSlot
    {
        public int Slot;
        public void* Value;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PyMethodDef
    {
        public byte* Name;
        public void* Method;
        public int Flags;
        public byte* Doc;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PyMemberDef
    {
        public byte* Name;
        public int Type;
        public nint Offset;
        public int Flags;
        public byte* Doc;
    }

    // Short calls that never run Python code: no GC transition (as in EngineModule).
    private static delegate* unmanaged[SuppressGCTransition]<IntPtr, void> s_incRef;
    private static byte* s_resultSlow;
    private static byte* s_exceptionSlow;
    private static byte* s_cancelSlow;
    private static byte* s_timeout;

    /// <summary>A new reference to the type, or NULL with a Python error set. The caller holds the GIL,
    /// and <see cref="PyApi"/> is loaded.</summary>
    public static IntPtr Create()
    {
        if (IntPtr.Size != 8)
        {
            throw new PlatformNotSupportedException("cs_futures' engine module needs a 64-bit interpreter");
        }
        s_incRef = (delegate* unmanaged[SuppressGCTransition]<IntPtr, void>)PyApi.Py_IncRef;
        s_resultSlow = Utf8("_result_slow");
        s_exceptionSlow = Utf8("_exception_slow");
        s_cancelSlow = Utf8("_cancel_slow");
        s_timeout = Utf8("timeout");

        // The definitions live as long as the process (CPython keeps pointers to them).
        var methods = (PyMethodDef*)NativeMemory.AllocZeroed(7, (nuint)sizeof(PyMethodDef)); // 6 and the end
        methods[0] = Method("done", (delegate* unmanaged<IntPtr, IntPtr, IntPtr>)&Done, MethNoArgs,
            "done($self, /)\n--\n\nReturn True if the future was cancelled or finished executing.");
        methods[1] = Method("running", (delegate* unmanaged<IntPtr, IntPtr, IntPtr>)&Running, MethNoArgs,
            "running($self, /)\n--\n\nReturn True if the future is currently executing.");
        methods[2] = Method("cancelled", (delegate* unmanaged<IntPtr, IntPtr, IntPtr>)&Cancelled, MethNoArgs,
            "cancelled($self, /)\n--\n\nReturn True if the future was cancelled.");
        methods[3] = Method("result", (delegate* unmanaged<IntPtr, IntPtr*, nint, IntPtr, IntPtr>)&ResultMethod, MethFastcallKeywords,
            ResultDoc);
        methods[4] = Method("exception", (delegate* unmanaged<IntPtr, IntPtr*, nint, IntPtr, IntPtr>)&ExceptionMethod, MethFastcallKeywords,
            ExceptionDoc);
        methods[5] = Method("cancel", (delegate* unmanaged<IntPtr, IntPtr, IntPtr>)&CancelMethod, MethNoArgs,
            "cancel($self, /)\n--\n\nCancel the future if possible.\n\nReturns True if the future was cancelled, False otherwise. A future\n"
            + "cannot be cancelled if it is running or has already completed.");

        var members = (PyMemberDef*)NativeMemory.AllocZeroed(3, (nuint)sizeof(PyMemberDef));
        members[0] = new PyMemberDef
        {
            Name = Utf8("_h"),
            Type = MemberULongLong,
            Offset = HandleOffset,
            Doc = Utf8("The engine future's handle (0: none)."),
        };
        members[1] = new PyMemberDef
        {
            Name = Utf8("_has_condition"),
            Type = MemberBool,
            Offset = ConditionFlagOffset,
            Doc = Utf8("True once Python code reached for the future's _condition: result() and exception() then wait in Python."),
        };

        var slots = (PyTypeSlot*)NativeMemory.AllocZeroed(4, (nuint)sizeof(PyTypeSlot));
        slots[0] = new PyTypeSlot { Slot = PyTypeSlotDoc, Value = Utf8("The engine's side of cs_futures.Future: its handle and its C methods.") };
        slots[1] = new PyTypeSlot { Slot = PyTypeSlotMethods, Value = methods };
        slots[2] = new PyTypeSlot { Slot = PyTypeSlotMembers, Value = members };

        var spec = (PyTypeSpec*)NativeMemory.AllocZeroed((nuint)sizeof(PyTypeSpec));
        spec->Name = Utf8("cs_futures._engine.FutureBase");
        spec->BasicSize = ObjectHeaderSize + 2 * sizeof(ulong); // the handle, the flag (padded)
        spec->Flags = TypeFlags;
        spec->Slots = slots;
        return PyApi.PyType_FromSpec(spec);
    }

    private static PyMethodDef Method(string name, void* function, int flags, string doc) =>
        new() { Name = Utf8(name), Method = function, Flags = flags, Doc = Utf8(doc) };

    private static byte* Utf8(string text) => (byte*)Marshal.StringToCoTaskMemUTF8(text); // never freed

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Future FutureOf(IntPtr self) => Handles.Get<Future>((IntPtr)(*(long*)(self + HandleOffset)));

    private static IntPtr Bool(bool value)
    {
        IntPtr result = value ? PyApi.True : PyApi.False;
        s_incRef(result);
        return result;
    }

    /// <summary>Python's <c>Future.done()</c>.</summary>
    [UnmanagedCallersOnly]
    private static IntPtr Done(IntPtr self, IntPtr unused)
    {
        try
        {
            return Bool(FutureOf(self).State >= FutureState.Cancelled);
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>Python's <c>Future.running()</c>.</summary>
    [UnmanagedCallersOnly]
    private static IntPtr Running(IntPtr self, IntPtr unused)
    {
        try
        {
            return Bool(FutureOf(self).State == FutureState.Running);
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>Python's <c>Future.cancelled()</c>.</summary>
    [UnmanagedCallersOnly]
    private static IntPtr Cancelled(IntPtr self, IntPtr unused)
    {
        try
        {
            return Bool(FutureOf(self).State is FutureState.Cancelled or FutureState.CancelledAndNotified);
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>Python's <c>Future.cancel()</c>: on a done future, its answer at once (False when finished,
    /// True when cancelled, as CPython's, which changes nothing then); the Python method
    /// <c>_cancel_slow</c> cancels a pending one (the callbacks and waiters it notifies are Python's), and
    /// answers for a future whose <c>_condition</c> Python code reached for. <c>executor.map</c> cancels each
    /// future it has taken the result of: that call is this one.</summary>
    [UnmanagedCallersOnly]
    private static IntPtr CancelMethod(IntPtr self, IntPtr unused)
    {
        try
        {
            if (*(byte*)(self + ConditionFlagOffset) == 0)
            {
                switch (FutureOf(self).State)
                {
                    case FutureState.Finished:
                        return Bool(false);
                    case FutureState.Cancelled:
                    case FutureState.CancelledAndNotified:
                        return Bool(true);
                }
            }
            return CallSlow(self, s_cancelSlow, null, 0, IntPtr.Zero);
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>Python's <c>Future.result(timeout=None)</c>.</summary>
    [UnmanagedCallersOnly]
    private static IntPtr ResultMethod(IntPtr self, IntPtr* args, nint nargs, IntPtr kwnames)
    {
        try
        {
            return Settled(self, args, nargs, kwnames, (int)Outcome.Result, s_resultSlow);
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>Python's <c>Future.exception(timeout=None)</c>.</summary>
    [UnmanagedCallersOnly]
    private static IntPtr ExceptionMethod(IntPtr self, IntPtr* args, nint nargs, IntPtr kwnames)
    {
        try
        {
            return Settled(self, args, nargs, kwnames, (int)Outcome.Exception, s_exceptionSlow);
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>The outcome of a finished future as a new reference, after waiting for it here when it is
    /// pending or running; the Python method <paramref name="slowName"/>'s answer for every other case
    /// (cancelled, raised, a .NET value, a timeout that passed, other arguments).</summary>
    private static IntPtr Settled(IntPtr self, IntPtr* args, nint nargs, IntPtr kwnames, int which, byte* slowName)
    {
        Future future = FutureOf(self);
        nint given = nargs + (kwnames == IntPtr.Zero ? 0 : PyApi.PyTuple_Size(kwnames));
        if (given <= 1
            && (kwnames == IntPtr.Zero || PyApi.PyUnicode_CompareWithASCIIString(PyApi.PyTuple_GetItem(kwnames, 0), s_timeout) == 0))
        {
            // At most the timeout (positional, or the one keyword): args[0] when given.
            if (future.State < FutureState.Cancelled)
            {
                int waited = WaitDone(self, future, given == 1 ? args[0] : IntPtr.Zero);
                if (waited < 0)
                {
                    return IntPtr.Zero; // a signal handler raised (Ctrl-C)
                }
                if (waited == TimedOut)
                {
                    return CallSlowWithoutWaiting(self, slowName); // its last look, then TimeoutError
                }
            }
            if (future.State == FutureState.Finished)
            {
                IntPtr value = PythonFutureOps.Outcome(future, which);
                if (value == IntPtr.Zero)
                {
                    s_incRef(PyApi.None); // exception(): the call did not raise
                    return PyApi.None;
                }
                // (The markers exist once the package configured the bridge; a finished future has no other.)
                if (!PythonBridge.IsReady || (value != PythonBridge.RaisedMarker && value != PythonBridge.ForeignMarker))
                {
                    s_incRef(value);
                    return value;
                }
            }
        }
        return CallSlow(self, slowName, args, nargs, kwnames);
    }

    /// <summary>Waits, with the GIL released, for a pending or running future to be done, as the package's
    /// <c>_bridge.wait</c> does: in slices of 0.1 s, with Python's signal handlers run between two (so that
    /// Ctrl-C interrupts it). <paramref name="timeout"/> is the caller's argument (NULL or None: no limit;
    /// an int or a float: seconds). Returns 1 when done, 0 when this left the wait to the Python method (a
    /// timeout that passed, another kind of timeout, or a future whose <c>_condition</c> Python code
    /// reached for: CPython's result() reads under that lock), <see cref="TimedOut"/> when the timeout
    /// passed here, -1 with the Python error of a signal handler set.</summary>
    private static int WaitDone(IntPtr self, Future future, IntPtr timeout)
    {
        if (*(byte*)(self + ConditionFlagOffset) != 0)
        {
            return 0;
        }
        long deadline = long.MaxValue;
        if (timeout != IntPtr.Zero && timeout != PyApi.None)
        {
            IntPtr type = PyApi.TypeOf(timeout);
            if (type != PyApi.FloatType && type != PyApi.LongType)
            {
                return 0; // Python's own arithmetic says what is wrong with it
            }
            double seconds = PyApi.PyFloat_AsDouble(timeout);
            if (PyApi.PyErr_Occurred() != IntPtr.Zero || !(seconds > 0))
            {
                PyApi.PyErr_Clear();
                return 0; // an int too large for a float, NaN, or no time to wait: the Python method
            }
            deadline = seconds >= long.MaxValue / 4 / (double)Stopwatch.Frequency
                ? long.MaxValue // centuries: no limit, as far as a wait can tell
                : Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        }
        while (true)
        {
            TimeSpan slice = NativeEntryPoints.WaitSlice;
            if (deadline != long.MaxValue)
            {
                TimeSpan remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
                if (remaining <= TimeSpan.Zero)
                {
                    return TimedOut;
                }
                slice = remaining < slice ? remaining : slice;
            }
            IntPtr state = PyApi.PyEval_SaveThread();
            bool done;
            try
            {
                done = future.Wait(slice);
            }
            finally
            {
                PyApi.PyEval_RestoreThread(state);
            }
            if (done)
            {
                return 1;
            }
            if (PyApi.PyErr_CheckSignals() != 0)
            {
                return -1;
            }
        }
    }

    private const int TimedOut = 2;

    /// <summary><c>self.&lt;name&gt;(0)</c>: the Python method's last look and its TimeoutError, once the
    /// wait here used the caller's timeout up.</summary>
    private static IntPtr CallSlowWithoutWaiting(IntPtr self, byte* name)
    {
        IntPtr zero = PyApi.PyFloat_FromDouble(0.0);
        if (zero == IntPtr.Zero)
        {
            return IntPtr.Zero;
        }
        try
        {
            return CallSlow(self, name, &zero, 1, IntPtr.Zero);
        }
        finally
        {
            PyApi.Py_DecRef(zero);
        }
    }

    /// <summary><c>self.&lt;name&gt;(*args, **kwargs)</c> from a vectorcall's arguments: a new
    /// reference, or NULL with the Python error set.</summary>
    private static IntPtr CallSlow(IntPtr self, byte* name, IntPtr* args, nint nargs, IntPtr kwnames)
    {
        IntPtr method = PyApi.PyObject_GetAttrString(self, name);
        if (method == IntPtr.Zero)
        {
            return IntPtr.Zero;
        }
        IntPtr positional = PyApi.PyTuple_New(nargs);
        IntPtr keywords = IntPtr.Zero;
        try
        {
            if (positional == IntPtr.Zero)
            {
                return IntPtr.Zero;
            }
            for (nint i = 0; i < nargs; i++)
            {
                PyApi.PyTuple_SetItem(positional, i, PyApi.NewRef(args[i])); // steals the new reference
            }
            if (kwnames != IntPtr.Zero)
            {
                keywords = PyApi.PyDict_New();
                if (keywords == IntPtr.Zero)
                {
                    return IntPtr.Zero;
                }
                nint count = PyApi.PyTuple_Size(kwnames);
                for (nint i = 0; i < count; i++)
                {
                    if (PyApi.PyDict_SetItem(keywords, PyApi.PyTuple_GetItem(kwnames, i), args[nargs + i]) != 0)
                    {
                        return IntPtr.Zero;
                    }
                }
            }
            return PyApi.PyObject_Call(method, positional, keywords);
        }
        finally
        {
            PyApi.Py_DecRef(method);
            if (positional != IntPtr.Zero)
            {
                PyApi.Py_DecRef(positional);
            }
            if (keywords != IntPtr.Zero)
            {
                PyApi.Py_DecRef(keywords);
            }
        }
    }

    private const string ResultDoc = """
        result($self, /, timeout=None)
        --

        Return the result of the call that the future represents.

        Args:
            timeout: The number of seconds to wait for the result if the future
                isn't done. If None, then there is no limit on the wait time.

        Returns:
            The result of the call that the future represents.

        Raises:
            CancelledError: If the future was cancelled.
            TimeoutError: If the future didn't finish executing before the given
                timeout.
            Exception: If the call raised then that exception will be raised.
        """;

    private const string ExceptionDoc = """
        exception($self, /, timeout=None)
        --

        Return the exception raised by the call that the future represents.

        Args:
            timeout: The number of seconds to wait for the exception if the
                future isn't done. If None, then there is no limit on the wait
                time.

        Returns:
            The exception raised by the call that the future represents or None
            if the call completed without raising.

        Raises:
            CancelledError: If the future was cancelled.
            TimeoutError: If the future didn't finish executing before the given
                timeout.
        """;
}
