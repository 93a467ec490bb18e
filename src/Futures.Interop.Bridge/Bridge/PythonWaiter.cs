using CsFutures.Interop.CPython;

namespace CsFutures.Interop.Bridge;

/// <summary>
/// A waiter that Python code placed in a future's <c>_waiters</c> (the standard library's
/// <c>wait</c> and <c>as_completed</c> over cs_futures futures): the future calls a zero-argument
/// Python callable once, under the GIL, when it finishes or is cancelled and notified, exactly when
/// CPython's future would call its waiter. The package's callable reads the outcome and calls the
/// Python waiter's <c>add_result</c>, <c>add_exception</c> or <c>add_cancelled</c>.
/// </summary>
/// <remarks>The future tells it after releasing its listeners' lock
/// (<see cref="Waiter.TellsOutsideLock"/>): a Python thread holding the GIL may be installing another
/// waiter on the same future. The callable is taken under the GIL, by the telling thread or by
/// <see cref="Release"/>, whichever comes first, so a waiter removed by Python is never told after.</remarks>
internal sealed unsafe class PythonWaiter : Waiter
{
    private PyRef? _callable;

    /// <summary>A waiter that calls <paramref name="callable"/> (borrowed; a reference is taken). Under the GIL.</summary>
    public PythonWaiter(IntPtr callable) => _callable = PyRef.Borrow(callable);

    internal override bool TellsOutsideLock => true;

    public override void AddResult(Future future, int token) => Tell();

    public override void AddException(Future future, int token) => Tell();

    public override void AddCancelled(Future future, int token) => Tell();

    /// <summary>Drops the callable without calling it (the waiter was removed, or never installed).
    /// Under the GIL.</summary>
    public void Release() => Interlocked.Exchange(ref _callable, null)?.Dispose();

    private void Tell()
    {
        if (Volatile.Read(ref _callable) is null || PyApi.IsFinalizing)
        {
            return;
        }
        using (Gil.Acquire())
        {
            if (Interlocked.Exchange(ref _callable, null) is not { } fn)
            {
                return; // removed by Python meanwhile
            }
            PythonCallables.CallOnceAndRelease(fn);
        }
    }
}
