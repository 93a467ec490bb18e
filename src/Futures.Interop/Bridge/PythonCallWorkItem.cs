using System.Diagnostics;
using CsFutures.Interop.CPython;

namespace CsFutures.Interop.Bridge;

/// <summary>
/// Python's <c>fn(*args, **kwargs)</c> as an engine work item: CPython's <c>_WorkItem</c>. The GIL is
/// held only while Python runs; the callable and its arguments are released as soon as it ran (or was
/// cancelled). The result becomes the future's <see cref="PyRef"/>; a raised exception becomes a
/// <see cref="PythonRaisedException"/> holding the very exception object, traceback included.
/// </summary>
internal sealed unsafe class PythonCallWorkItem : WorkItem
{
    private readonly Future<PyRef> _future;
    private PyRef? _fn;
    private PyRef? _args;
    private PyRef? _kwargs;

    /// <summary>Takes new references to the borrowed callable, argument tuple and keyword dict
    /// (<paramref name="kwargs"/> may be NULL). The caller holds the GIL.</summary>
    public PythonCallWorkItem(Future<PyRef> future, IntPtr fn, IntPtr args, IntPtr kwargs)
    {
        _future = future;
        _fn = PyRef.Borrow(fn);
        _args = PyRef.Borrow(args);
        _kwargs = kwargs == IntPtr.Zero ? null : PyRef.Borrow(kwargs);
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
            IntPtr result = PyApi.PyObject_Call(_fn!.Pointer, _args!.Pointer, _kwargs?.Pointer ?? IntPtr.Zero);
            PyRef? error = result == IntPtr.Zero ? PyErr.Fetch() : null;
            _fn.Dispose();
            _args.Dispose();
            _kwargs?.Dispose();
            _fn = _args = _kwargs = null;
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

    private void ReleaseLater()
    {
        _fn?.DisposeLater();
        _args?.DisposeLater();
        _kwargs?.DisposeLater();
        _fn = _args = _kwargs = null;
    }
}
