using System.Collections.Concurrent;

namespace CsFutures.Interop.CPython;

/// <summary>
/// An owned reference to a Python object, held by .NET (a task's callable, a future's result).
/// <see cref="Dispose"/> releases it at once and must run under the GIL; a reference dropped without
/// it is released by the finalizer, which never touches Python: it queues the pointer, and the next
/// thread that takes the GIL through the bridge releases it (<see cref="DrainPending"/>).
/// </summary>
public sealed class PyRef : IDisposable
{
    private static readonly ConcurrentQueue<IntPtr> s_pending = new();
    private IntPtr _ptr;

    private PyRef(IntPtr ptr) => _ptr = ptr;

    /// <summary>The object's address (still owned by this reference).</summary>
    public IntPtr Pointer => _ptr;

    /// <summary>Takes ownership of a new reference; <c>null</c> for a NULL pointer.</summary>
    internal static PyRef? Steal(IntPtr ptr) => ptr == IntPtr.Zero ? null : new PyRef(ptr);

    /// <summary>Takes a new reference to a borrowed pointer (under the GIL).</summary>
    internal static unsafe PyRef Borrow(IntPtr ptr)
    {
        PyApi.Py_IncRef(ptr);
        return new PyRef(ptr);
    }

    /// <summary>Releases the reference now. The caller holds the GIL.</summary>
    public unsafe void Dispose()
    {
        IntPtr ptr = Interlocked.Exchange(ref _ptr, IntPtr.Zero);
        if (ptr != IntPtr.Zero)
        {
            PyApi.Py_DecRef(ptr);
            GC.SuppressFinalize(this);
        }
    }

    /// <summary>Releases the reference at the next GIL acquisition (for threads without the GIL).</summary>
    public void DisposeLater()
    {
        IntPtr ptr = Interlocked.Exchange(ref _ptr, IntPtr.Zero);
        if (ptr != IntPtr.Zero)
        {
            s_pending.Enqueue(ptr);
            GC.SuppressFinalize(this);
        }
    }

    /// <summary>Releases the references queued by finalizers and <see cref="DisposeLater"/>. The caller
    /// holds the GIL.</summary>
    /// <summary>Releases a raw reference (NULL: nothing) on the next thread that takes the GIL through
    /// the bridge (<see cref="DrainPending"/>), as <see cref="DisposeLater"/> does for a <see cref="PyRef"/>.</summary>
    internal static void DecRefLater(IntPtr ptr)
    {
        if (ptr != IntPtr.Zero)
        {
            s_pending.Enqueue(ptr);
        }
    }

    internal static unsafe void DrainPending()
    {
        if (s_pending.IsEmpty || PyApi.IsFinalizing)
        {
            return;
        }
        while (s_pending.TryDequeue(out var ptr))
        {
            PyApi.Py_DecRef(ptr);
        }
    }

    /// <summary>Runs the pending queue's code once, off the GIL, so that the first
    /// <see cref="DrainPending"/> does not compile it (see <c>StartupWarmUp</c>).</summary>
    internal static void WarmUp()
    {
        if (!s_pending.IsEmpty)
        {
            s_pending.TryPeek(out _);
        }
    }

    /// <summary>Never touches Python: the interpreter may be busy elsewhere or gone.</summary>
    ~PyRef()
    {
        if (_ptr != IntPtr.Zero)
        {
            s_pending.Enqueue(_ptr);
        }
    }
}
