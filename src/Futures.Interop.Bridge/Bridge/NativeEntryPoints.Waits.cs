using System.Runtime.InteropServices;
using CsFutures.Interop.CPython;

namespace CsFutures.Interop.Bridge;

/// <summary>The entry points of the waits: <c>wait()</c> and <c>as_completed()</c> over engine futures (see <see cref="NativeEntryPoints"/>).</summary>
public static unsafe partial class NativeEntryPoints
{
    /// <summary>py: starts a <c>concurrent.futures.wait</c> over <paramref name="count"/> futures with
    /// the <see cref="ReturnWhen"/> condition: one waiter, installed once. When the condition holds
    /// already, fills <paramref name="doneMask"/> and returns NULL without an error (Python: None),
    /// as CPython returns before installing a waiter; otherwise a handle for <see cref="WaitNext"/>.</summary>
    private static IntPtr WaitNew(IntPtr* handles, int count, int returnWhen, byte* doneMask)
    {
        try
        {
            if (!Enum.IsDefined((ReturnWhen)returnWhen))
            {
                throw new ArgumentOutOfRangeException(nameof(returnWhen), returnWhen, "Invalid return condition");
            }
            var cursor = new WaitCursor(Futures(handles, count), (ReturnWhen)returnWhen);
            if (cursor.Holds)
            {
                cursor.Fill(doneMask);
                cursor.Dispose();
                return IntPtr.Zero;
            }
            return Handles.New(cursor);
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>wait: one slice of <c>concurrent.futures.wait</c>; fills <paramref name="doneMask"/>
    /// (one byte a future) and returns 1 when the return condition holds, 0 when the slice passed.</summary>
    private static int WaitNext(IntPtr handle, byte* doneMask, double seconds)
    {
        try
        {
            var cursor = Handles.Get<WaitCursor>(handle);
            bool holds = cursor.Step(TimeSpan.FromSeconds(seconds));
            cursor.Fill(doneMask);
            return holds ? 1 : 0;
        }
        catch (Exception ex)
        {
            return BridgeErrors.WaitFailed(ex);
        }
    }

    /// <summary>py: starts an <c>as_completed</c> iteration.</summary>
    private static IntPtr CursorNew(IntPtr* handles, int count)
    {
        try
        {
            return Handles.New(new Cursor(Futures(handles, count)));
        }
        catch (Exception ex)
        {
            return BridgeErrors.Raise(ex, IntPtr.Zero);
        }
    }

    /// <summary>wait: the index plus one of the next completed future, 0 if none in the slice,
    /// <see cref="EntryCode.CursorExhausted"/> when all were yielded.</summary>
    private static int CursorNext(IntPtr handle, double seconds)
    {
        try
        {
            return Handles.Get<Cursor>(handle).Next(TimeSpan.FromSeconds(seconds));
        }
        catch (Exception ex)
        {
            return BridgeErrors.WaitFailed(ex);
        }
    }

    private static Future[] Futures(IntPtr* handles, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count > 0 && handles == null)
        {
            throw new ArgumentNullException(nameof(handles));
        }
        var fs = new Future[count];
        for (int i = 0; i < count; i++)
        {
            fs[i] = Handles.Get<Future>(handles[i]);
        }
        return fs;
    }
}
