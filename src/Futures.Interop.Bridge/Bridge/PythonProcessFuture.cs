using CsFutures.Interop.CPython;
using CsFutures.Processes;

namespace CsFutures.Interop.Bridge;

/// <summary>
/// The future of a Python task on a process pool. The worker's reply stays bytes until Python asks
/// for the outcome; then, under the GIL, the package's decoder unpickles it (and builds
/// <c>BrokenProcessPool</c> with its cause for a dead worker). Reader threads therefore never wait
/// for the GIL, and a result nobody reads is never unpickled.
/// </summary>
internal class PythonProcessFuture : Future<PyRef>
{
    private readonly PyRef _decoder;
    private byte[]? _reply;
    private bool _replyOk;
    private bool _decoded;

    public PythonProcessFuture(PyRef decoder) => _decoder = decoder;

    /// <summary>Completes the future from the worker's reply, still encoded.</summary>
    public void SetReply(bool ok, byte[] reply)
    {
        _reply = reply;
        _replyOk = ok;
        if (ok)
        {
            SetResult(null!);
        }
        else
        {
            SetException(new WorkerTaskException(reply));
        }
    }

    /// <summary>Turns the reply (or the engine's error) into Python objects, once. Under the GIL.</summary>
    public unsafe void DecodeIfNeeded()
    {
        if (_decoded || State != FutureState.Finished)
        {
            return;
        }
        _decoded = true;
        byte[]? reply = Interlocked.Exchange(ref _reply, null);
        IntPtr kind, data;
        if (reply is not null)
        {
            kind = PyApi.PyLong_FromLongLong(_replyOk ? 0 : 1);
            data = PyApi.NewBytes(reply);
        }
        else if (Exception(TimeSpan.Zero) is BrokenProcessPoolException broken)
        {
            kind = PyApi.PyLong_FromLongLong(2);
            data = PyApi.PyTuple_New(3);
            PyApi.PyTuple_SetItem(data, 0, PyApi.NewString(broken.Message));
            PyApi.PyTuple_SetItem(data, 1, broken.Detail is null ? PyApi.NewRef(IntPtr.Zero) : PyApi.NewString(broken.Detail));
            PyApi.PyTuple_SetItem(data, 2, broken.ExitCode is { } code ? PyApi.PyLong_FromLongLong(code) : PyApi.NewRef(IntPtr.Zero));
        }
        else if (Exception(TimeSpan.Zero) is { } error && EncodeFailure(error) is var (failureKind, failureData))
        {
            kind = PyApi.PyLong_FromLongLong(failureKind);
            data = failureData;
        }
        else
        {
            return; // cancelled, timed out: the bridge's usual conversion applies
        }
        IntPtr outcome = PyCall.CallStealing(_decoder.Pointer, [kind, data]);
        if (outcome == IntPtr.Zero)
        {
            ForceException(new PythonRaisedException(PyErr.Fetch()));
            return;
        }
        bool ok = PyApi.PyObject_IsTrue(PyApi.PyTuple_GetItem(outcome, 0)) == 1;
        var value = PyRef.Borrow(PyApi.PyTuple_GetItem(outcome, 1));
        PyApi.Py_DecRef(outcome);
        if (ok)
        {
            ForceResult(value);
        }
        else
        {
            ForceException(new PythonRaisedException(value));
        }
    }

    /// <summary>Another executor's failure that the decoder turns into its Python exception: the
    /// decoder's kind (3 and up) and a new reference to its data, or null for the bridge's usual
    /// conversion. Under the GIL.</summary>
    protected virtual (int Kind, IntPtr Data)? EncodeFailure(Exception exception) => null;
}

/// <summary>A pickled Python call for the process pool (or the cluster); its future decodes the reply lazily.</summary>
internal sealed class PythonProcessWorkItem : ProcessWorkItem
{
    private readonly PythonProcessFuture _future;

    public PythonProcessWorkItem(PythonProcessFuture future, byte[] payload, TimeSpan? timeout)
        : base(payload, timeout)
    {
        _future = future;
    }

    public override Future Future => _future;

    public override void Complete(bool succeeded, byte[] reply) => _future.SetReply(succeeded, reply);
}
