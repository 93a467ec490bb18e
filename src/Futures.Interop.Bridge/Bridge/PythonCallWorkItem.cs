using System.Diagnostics;
using CsFutures.Interop.CPython;

namespace CsFutures.Interop.Bridge;

/// <summary>
/// Python's <c>fn(*args, **kwargs)</c> as an engine work item: CPython's <c>_WorkItem</c>. The GIL is
/// held only while Python runs; the callable and its arguments are released as soon as it ran (or was
/// cancelled, or dropped by its pool: <see cref="IWorkItem.Discard"/>). The result becomes the future's
/// <see cref="PyRef"/>; a raised exception becomes a <see cref="PythonRaisedException"/> holding the very
/// exception object, traceback included.
/// </summary>
/// <remarks>The callable and arguments are kept as raw references, not as <see cref="PyRef"/>s: a
/// <see cref="PyRef"/> has a finalizer, and two finalizable objects per task cost the .NET GC (which
/// scans every live finalizable object at each collection) a measurable share of a trivial task. Every
/// way an item leaves its pool releases them (<see cref="Run"/>, <see cref="IWorkItem.Discard"/>, and
/// <see cref="Release"/> when the submit itself failed).</remarks>
internal sealed unsafe class PythonCallWorkItem : WorkItem, IWorkItem
{
    private readonly Future<PyRef> _future;
    private IntPtr _fn;
    private IntPtr _args;
    private IntPtr _kwargs;

    /// <summary>Takes new references to the borrowed callable, argument tuple and keyword dict
    /// (<paramref name="kwargs"/> may be NULL). The caller holds the GIL.</summary>
    public PythonCallWorkItem(Future<PyRef> future, IntPtr fn, IntPtr args, IntPtr kwargs)
    {
        _future = future;
        PyApi.Py_IncRef(fn);
        PyApi.Py_IncRef(args);
        if (kwargs != IntPtr.Zero)
        {
            PyApi.Py_IncRef(kwargs);
        }
        _fn = fn;
        _args = args;
        _kwargs = kwargs;
    }

    /// <summary>A task that ran at least this long keeps the GIL for its worker's next task (it slept,
    /// waited for I/O, or computed: a GIL hand-over saved per task, as CPython's workers keep the GIL
    /// from one item to the next). Shorter tasks give the GIL back at once, so that threads submitting
    /// trivial tasks in a loop never leave a thread waiting for the GIL behind a worker that holds it
    /// from task to task.</summary>
    private static readonly TimeSpan KeepGilAfter = TimeSpan.FromMilliseconds(1);

    public override Future Future => _future;

    public override void Run()
    {
        if (!_future.SetRunningOrNotifyCancel())
        {
            ReleaseLater();
            return;
        }
        if (PyApi.IsFinalizing)
        {
            ReleaseLater();
            _future.SetException(new InvalidOperationException("cannot run a Python task: the interpreter is finalizing"));
            return;
        }
        var gil = Gil.AcquireForTask();
        long started = Stopwatch.GetTimestamp();
        try
        {
            IntPtr result = PyApi.PyObject_Call(_fn, _args, _kwargs);
            PyRef? error = result == IntPtr.Zero ? PyErr.Fetch() : null;
            Release();
            if (error is not null)
            {
                _future.SetException(new PythonRaisedException(error));
            }
            else
            {
                _future.SetResult(PyRef.Steal(result)!);
            }
        }
        finally
        {
            gil.DisposeForTask(keep: Stopwatch.GetElapsedTime(started) >= KeepGilAfter);
        }
    }

    /// <summary>Releases the callable and its arguments now: the caller holds the GIL (the submit that
    /// failed after the item was made, or <see cref="Run"/>).</summary>
    public void Release()
    {
        PyApi.Py_DecRef(_fn);
        PyApi.Py_DecRef(_args);
        if (_kwargs != IntPtr.Zero)
        {
            PyApi.Py_DecRef(_kwargs);
        }
        _fn = _args = _kwargs = IntPtr.Zero;
    }

    /// <summary>The pool dropped the item (cancelled or failed while queued): released by the next
    /// thread that takes the GIL through the bridge.</summary>
    void IWorkItem.Discard() => ReleaseLater();

    private void ReleaseLater()
    {
        PyRef.DecRefLater(_fn);
        PyRef.DecRefLater(_args);
        PyRef.DecRefLater(_kwargs);
        _fn = _args = _kwargs = IntPtr.Zero;
    }
}
