using CsFutures.Interop.Threads;
namespace CsFutures.Interop.CPython;

/// <summary>
/// Holds the GIL for a scope: <c>using (Gil.Acquire()) { ... }</c>. Reentrant (CPython's
/// <c>PyGILState_Ensure</c>/<c>PyGILState_Release</c>); on a pool worker that keeps its thread state
/// (<see cref="PythonThreads"/>) it costs one GIL hand-over, no thread-state creation. A ref struct,
/// so it cannot be held across an <c>await</c>.
/// </summary>
internal readonly ref struct Gil
{
    /// <summary>Not a <c>PyGILState_STATE</c>: this scope attached a pool worker.</summary>
    private const int ReleaseAfterAttach = -1;

    /// <summary>Not a <c>PyGILState_STATE</c>: an interpreter-pool worker took the GIL with its own
    /// thread state.</summary>
    private const int ReleaseOwnState = -2;

    /// <summary>Not a <c>PyGILState_STATE</c>: an interpreter-pool worker already held the GIL.</summary>
    private const int Nothing = -3;

    /// <summary>Not a <c>PyGILState_STATE</c>: this scope resumed a GIL its worker kept.</summary>
    private const int Kept = -4;

    private readonly int _state;

    private Gil(int state) => _state = state;

    /// <summary>Takes the GIL, then releases Python references that finalizers queued.</summary>
    /// <exception cref="InvalidOperationException">The interpreter is finalizing.</exception>
    public static unsafe Gil Acquire()
    {
        if (PyApi.IsFinalizing)
        {
            throw new InvalidOperationException("cannot call into Python: the interpreter is finalizing");
        }
        var gil = new Gil(PythonThreads.AttachHoldingGil() ? ReleaseAfterAttach
            : PythonThreads.AcquireOwnState() switch
            {
                PythonThreads.OwnState.Taken => ReleaseOwnState,
                PythonThreads.OwnState.AlreadyHeld => Nothing,
                _ => PyApi.PyGILState_Ensure(),
            });
        PyRef.DrainPending();
        return gil;
    }

    /// <summary>For a Python task on a pool worker: takes the GIL, unless the worker kept it after its
    /// previous task (<see cref="PythonThreads.Keep"/>). End the scope with <see cref="DisposeForTask"/>.</summary>
    /// <exception cref="InvalidOperationException">The interpreter is finalizing.</exception>
    public static Gil AcquireForTask() => PythonThreads.ResumeKept() ? new Gil(Kept) : Acquire();

    /// <summary>Ends a <see cref="AcquireForTask"/> scope. With <paramref name="keep"/>, a pool worker
    /// keeps the GIL for its next task (see <see cref="PythonThreads.Keep"/>); otherwise, and on any
    /// other thread, the GIL is released.</summary>
    public void DisposeForTask(bool keep)
    {
        if (_state == Kept)
        {
            PythonThreads.KeepAgain();
            if (!keep)
            {
                PythonThreads.ReleaseKept();
            }
            return;
        }
        if (!keep || !PythonThreads.Keep(_state, afterAttach: _state == ReleaseAfterAttach))
        {
            Dispose();
        }
    }

    /// <summary>Returns the GIL to the state before <see cref="Acquire"/>.</summary>
    public unsafe void Dispose()
    {
        if (_state == ReleaseAfterAttach)
        {
            PythonThreads.ReleaseAfterAttach();
        }
        else if (_state == ReleaseOwnState)
        {
            PythonThreads.ReleaseOwnState();
        }
        else if (_state == Nothing)
        {
            return;
        }
        else
        {
            PyApi.PyGILState_Release(_state);
        }
    }
}
