using System.Diagnostics;

namespace CsFutures;

/// <summary>Debug-build invariant checks for the process pool's <c>...Locked</c> methods (as
/// System.Threading.Channels' <c>Debug.Assert(Monitor.IsEntered(SyncObj))</c>); compiled out of
/// Release builds.</summary>
internal static class LockAssert
{
    /// <summary>Asserts that the calling thread holds <paramref name="lockObject"/>.</summary>
    [Conditional("DEBUG")]
    public static void Held(Lock lockObject) =>
        Debug.Assert(lockObject.IsHeldByCurrentThread, "the pool's lock must be held here");

    /// <summary>Asserts that the calling thread does not hold <paramref name="lockObject"/>: what
    /// runs here may block (a process spawn, a socket write) or run user code (a future's callbacks).</summary>
    [Conditional("DEBUG")]
    public static void NotHeld(Lock lockObject) =>
        Debug.Assert(!lockObject.IsHeldByCurrentThread, "the pool's lock must not be held here");
}
