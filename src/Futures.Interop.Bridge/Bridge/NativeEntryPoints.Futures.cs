using System.Runtime.InteropServices;
using CsFutures.Interop.CPython;

namespace CsFutures.Interop.Bridge;

/// <summary>The entry points of the futures: Python's <c>Future</c> methods on an engine future, and the handles that Python holds (see <see cref="NativeEntryPoints"/>).</summary>
public static unsafe partial class NativeEntryPoints
{
    /// <summary>py: a new pending future for Python's <c>Future()</c>.</summary>
    private static IntPtr FutureNew()
    {
        try
        {
            return Handles.New(new Future<PyRef>());
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>py: frees a handle; <paramref name="releaseValues"/> also releases a done future's
    /// Python values now when it was the object's last handle (Python held the only way to reach
    /// them). 0, or -1 for a bad handle.</summary>
    private static int HandleFree(IntPtr handle, int releaseValues)
    {
        try
        {
            object target = Handles.Target(handle);
            if (!Handles.Free(handle))
            {
                return 0; // a copy's handle is still live (copy.copy): the values stay
            }
            if (releaseValues != 0 && target is Future future)
            {
                PythonFutureOps.ReleaseValues(future);
            }
            (target as Cursor)?.Dispose(); // never an executor: its Dispose waits for workers that need the GIL
            (target as WaitCursor)?.Dispose();
            return 0;
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, -1);
        }
    }

    /// <summary>py: a second handle to the object behind <paramref name="handle"/> (for
    /// <c>copy.copy</c>: each Python object frees its own).</summary>
    private static IntPtr HandleCopy(IntPtr handle)
    {
        try
        {
            return Handles.Copy(handle);
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>py: the future's <see cref="CsFutures.FutureState"/>.</summary>
    private static int FutureState(IntPtr handle)
    {
        try
        {
            return (int)Handles.Get<Future>(handle).State;
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, -1);
        }
    }

    /// <summary>py: <c>cancel()</c>: 1 if cancelled.</summary>
    private static int FutureCancel(IntPtr handle)
    {
        try
        {
            return Handles.Get<Future>(handle).Cancel() ? 1 : 0;
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, -1);
        }
    }

    /// <summary>py: <c>set_running_or_notify_cancel()</c>: 1 if now running, 0 if cancelled.</summary>
    private static int FutureSetRunningOrNotifyCancel(IntPtr handle)
    {
        try
        {
            return Handles.Get<Future>(handle).SetRunningOrNotifyCancel() ? 1 : 0;
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, -1);
        }
    }

    /// <summary>py: <c>set_result</c> or <c>set_exception</c> (<see cref="Outcome"/>).</summary>
    private static int FutureSet(IntPtr handle, int which, IntPtr value)
    {
        try
        {
            var future = Handles.Get<Future>(handle);
            if ((Outcome)which == Outcome.Result)
            {
                PythonFutureOps.SetResult(future, value);
            }
            else
            {
                PythonFutureOps.SetException(future, value);
            }
            return 0;
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, -1);
        }
    }

    /// <summary>py: the outcome (<see cref="Outcome"/>; a new reference, as ctypes' py_object
    /// expects) or a marker; None for exception() of a future that did not raise.</summary>
    private static IntPtr FutureOutcome(IntPtr handle, int which)
    {
        try
        {
            return PyApi.NewRef(PythonFutureOps.Outcome(Handles.Get<Future>(handle), which));
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>py: <c>add_done_callback</c> with a zero-argument callable (the package binds the future).</summary>
    private static int FutureAddDoneCallback(IntPtr handle, IntPtr callable)
    {
        try
        {
            PythonFutureOps.AddDoneCallback(Handles.Get<Future>(handle), callable);
            return 0;
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, -1);
        }
    }

    /// <summary>py: Python code assigning <c>_state</c>, <c>_result</c> or <c>_exception</c>
    /// (<see cref="ForceField"/>).</summary>
    private static int FutureForce(IntPtr handle, int which, int state, IntPtr value)
    {
        try
        {
            var future = Handles.Get<Future>(handle);
            if ((ForceField)which == ForceField.State && !Enum.IsDefined((CsFutures.FutureState)state))
            {
                throw new ArgumentOutOfRangeException(nameof(state), state, "not a future state");
            }
            PythonFutureOps.Force(future, which, state, value);
            return 0;
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, -1);
        }
    }

    /// <summary>py: <c>future._condition.notify_all()</c>: wakes the threads blocked on the future.</summary>
    private static int FutureNotifyAll(IntPtr handle)
    {
        try
        {
            Handles.Get<Future>(handle).NotifyAll();
            return 0;
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, -1);
        }
    }

    /// <summary>py: <c>future._waiters.append(waiter)</c>: installs a waiter that calls the
    /// zero-argument <paramref name="callable"/> once, under the GIL, when the future finishes or is
    /// cancelled and notified (<see cref="PythonWaiter"/>). Returns the waiter's handle, for
    /// <c>future_remove_waiter</c>; 0 (None) when the future is already finished or cancelled and
    /// notified: nothing is installed, and the callable is not kept.</summary>
    private static IntPtr FutureAddWaiter(IntPtr handle, IntPtr callable)
    {
        try
        {
            var future = Handles.Get<Future>(handle);
            var waiter = new PythonWaiter(callable);
            if (!future.TryInstallWaiter(waiter))
            {
                waiter.Release();
                return IntPtr.Zero;
            }
            return Handles.New(waiter);
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>py: <c>future._waiters.remove(waiter)</c>: takes the waiter of
    /// <paramref name="waiterHandle"/> off the future (if it is still there: a done future dropped
    /// it when it told it), drops its callable and frees the handle.</summary>
    private static int FutureRemoveWaiter(IntPtr handle, IntPtr waiterHandle)
    {
        try
        {
            var future = Handles.Get<Future>(handle);
            var waiter = Handles.Get<PythonWaiter>(waiterHandle);
            future.RemoveWaiter(waiter);
            waiter.Release();
            Handles.Free(waiterHandle);
            return 0;
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, -1);
        }
    }

    /// <summary>wait: blocks up to <paramref name="seconds"/> for the future to be done; 1 if done.</summary>
    private static int FutureWait(IntPtr handle, double seconds)
    {
        try
        {
            return Handles.Get<Future>(handle).Wait(TimeSpan.FromSeconds(seconds)) ? 1 : 0;
        }
        catch (Exception ex)
        {
            return BridgeErrors.WaitFailed(ex);
        }
    }
}
