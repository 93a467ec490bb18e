using CsFutures.Interop.CPython;

namespace CsFutures.Interop.Bridge;

/// <summary>
/// What Python's <c>cs_futures.Future</c> needs from an engine future: outcomes as Python objects,
/// done-callbacks that are Python callables, and the writes that Python code may make to
/// <c>_state</c>, <c>_result</c> and <c>_exception</c>. All under the GIL.
/// </summary>
internal static unsafe class PythonFutureOps
{
    /// <summary>The result (0) or exception (1) of a future as a borrowed Python object, or one of the
    /// bridge's markers: pending, cancelled, raised (for 0), foreign (a .NET value).</summary>
    public static IntPtr Outcome(Future future, int which)
    {
        switch (future.State)
        {
            case FutureState.Pending:
            case FutureState.Running:
                return PythonBridge.PendingMarker;
            case FutureState.Cancelled:
            case FutureState.CancelledAndNotified:
                return PythonBridge.CancelledMarker;
        }
        (future as PythonProcessFuture)?.DecodeIfNeeded();
        Exception? exception = future.Exception(TimeSpan.Zero);
        if (which == 0)
        {
            if (exception is not null)
            {
                return PythonBridge.RaisedMarker;
            }
            return future is Future<PyRef> py ? py.Result(TimeSpan.Zero).Pointer : PythonBridge.ForeignMarker;
        }
        if (exception is null)
        {
            return IntPtr.Zero; // None
        }
        if (future is not Future<PyRef> && exception.GetType().Namespace != typeof(Future).Namespace)
        {
            return PythonBridge.ForeignMarker; // a .NET callable's own exception: pythonnet converts it
        }
        if (exception is not PythonRaisedException raised)
        {
            // Converted once and kept, so that exception() returns the same object every time.
            IntPtr created = PyErr.ToPython(exception);
            if (created == IntPtr.Zero)
            {
                PyApi.PyErr_Clear();
                return PythonBridge.ForeignMarker;
            }
            raised = new PythonRaisedException(PyRef.Steal(created)!);
            future.ForceException(raised);
        }
        return raised.Exception.Pointer;
    }

    /// <summary>Python's <c>set_result</c>/<c>set_exception</c> on a future created by Python.</summary>
    public static void SetResult(Future future, IntPtr value) => ((Future<PyRef>)future).SetResult(PyRef.Borrow(value));

    public static void SetException(Future future, IntPtr exception) =>
        future.SetException(new PythonRaisedException(PyRef.Borrow(exception)));

    /// <summary>Attaches a zero-argument Python callable as a done-callback; it runs under the GIL on
    /// the thread that completes the future (at once if already done).</summary>
    public static void AddDoneCallback(Future future, IntPtr callable)
    {
        var fn = PyRef.Borrow(callable);
        future.AddDoneCallback(_ =>
        {
            if (PyApi.IsFinalizing)
            {
                return;
            }
            using (Gil.Acquire())
            {
                PythonCallables.CallOnceAndRelease(fn);
            }
        });
    }

    /// <summary>Python code assigning <c>_state</c> (0), <c>_result</c> (1) or <c>_exception</c> (2).</summary>
    public static void Force(Future future, int which, int state, IntPtr value)
    {
        switch (which)
        {
            case 0:
                future.ForceState((FutureState)state);
                break;
            case 1:
                ((Future<PyRef>)future).ForceResult(PyRef.Borrow(value));
                break;
            default:
                value = PyApi.NullIfNone(value);
                future.ForceException(value == IntPtr.Zero ? null : new PythonRaisedException(PyRef.Borrow(value)));
                break;
        }
    }

    /// <summary>Releases the Python values of a done future that Python no longer references.</summary>
    public static void ReleaseValues(Future future)
    {
        if (future is not Future<PyRef> py || future.State != FutureState.Finished)
        {
            return;
        }
        switch (future.Exception(TimeSpan.Zero))
        {
            case PythonRaisedException raised:
                raised.Exception.Dispose();
                break;
            case null:
                py.Result(TimeSpan.Zero)?.Dispose();
                break;
            default:
                break; // a .NET exception (a process pool's undecoded failure): nothing Python-owned
        }
    }
}
