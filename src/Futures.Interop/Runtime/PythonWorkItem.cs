using CsFutures.Interop.CPython;
using Python.Runtime;

namespace CsFutures.Interop.Runtime;

/// <summary>
/// A Python callable with .NET arguments as an engine work item whose future has a .NET type:
/// CPython's <c>_WorkItem</c> for <c>fn(*args, **kwargs)</c>. Nothing touches Python until a worker runs
/// it; then the GIL is held only while the arguments are converted, the call runs and the result is
/// converted. The future completes after the GIL is released, so done-callbacks never run under it.
/// </summary>
internal sealed unsafe class PythonWorkItem<T> : WorkItem
{
    private readonly Future<T> _future;
    private PyObject? _fn;
    private object?[]? _args;
    private IReadOnlyDictionary<string, object?>? _kwargs;

    public PythonWorkItem(Future<T> future, PyObject fn, object?[] args, IReadOnlyDictionary<string, object?>? kwargs)
    {
        _future = future;
        _fn = fn;
        _args = args;
        _kwargs = kwargs;
    }

    public override Future Future => _future;

    public override void Run()
    {
        var fn = _fn!;
        var args = _args!;
        var kwargs = _kwargs;
        _fn = null;
        _args = null;
        _kwargs = null;
        if (!_future.SetRunningOrNotifyCancel())
        {
            return;
        }
        T result = default!;
        Exception? error = null;
        try
        {
            if (PyApi.IsFinalizing)
            {
                throw new InvalidOperationException("cannot run a Python task: the interpreter is shut down");
            }
            using (Gil.Acquire())
            {
                result = PythonCall.Invoke<T>(PyObjects.Address(fn), args, kwargs);
            }
        }
        catch (Exception ex)
        {
            error = ex;
        }
        if (error is null)
        {
            _future.SetResult(result);
        }
        else
        {
            _future.SetException(error);
        }
    }
}
