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
        using (Gil.Acquire())
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
    }

    private void ReleaseLater()
    {
        _fn?.DisposeLater();
        _args?.DisposeLater();
        _kwargs?.DisposeLater();
        _fn = _args = _kwargs = null;
    }
}
