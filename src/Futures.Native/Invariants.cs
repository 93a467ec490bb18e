using System.Diagnostics;

namespace CsFutures;

/// <summary>Lock invariants checked in Debug builds only, in the manner of dotnet/runtime's
/// <c>Debug.Assert(Monitor.IsEntered(SyncObj))</c>: every method is
/// <c>[Conditional("DEBUG")]</c>, so in a Release build the compiler removes the call and its
/// arguments at each call site (the check costs nothing there). The condition is evaluated where
/// the call is compiled, so a Debug build of Futures.Interop checks its own calls even against a
/// Release Futures.Native. A violated invariant throws <see cref="InvariantViolationException"/>
/// (rather than <see cref="Debug.Assert(bool)"/>, which fails fast and takes a test host down
/// without naming the test).</summary>
/// <remarks>CPython has no counterpart: its <c>concurrent.futures</c> relies on
/// <c>with self._condition:</c> blocks and has no lock assertions.</remarks>
internal static class Invariants
{
    /// <summary>Asserts that the current thread holds <paramref name="lockObject"/>.</summary>
    [Conditional("DEBUG")]
    public static void AssertHeld(Lock lockObject)
    {
        if (!lockObject.IsHeldByCurrentThread)
        {
            throw new InvariantViolationException("the current thread does not hold the lock it must hold here");
        }
    }

    /// <summary>Asserts that the current thread has entered the monitor of
    /// <paramref name="monitor"/> (<c>lock (monitor)</c> or <see cref="Monitor.Enter(object)"/>).</summary>
    [Conditional("DEBUG")]
    public static void AssertHeld(object monitor)
    {
        if (!Monitor.IsEntered(monitor))
        {
            throw new InvariantViolationException("the current thread has not entered the monitor it must hold here");
        }
    }

    /// <summary>Asserts that the current thread does not hold <paramref name="lockObject"/> (before
    /// a blocking wait, a callback into user code, or taking a lock that ranks before it).</summary>
    [Conditional("DEBUG")]
    public static void AssertNotHeld(Lock lockObject)
    {
        if (lockObject.IsHeldByCurrentThread)
        {
            throw new InvariantViolationException("the current thread holds a lock it must not hold here");
        }
    }

    /// <summary>Asserts that the current thread has not entered the monitor of
    /// <paramref name="monitor"/>.</summary>
    [Conditional("DEBUG")]
    public static void AssertNotHeld(object monitor)
    {
        if (Monitor.IsEntered(monitor))
        {
            throw new InvariantViolationException("the current thread has entered a monitor it must not hold here");
        }
    }

    /// <summary>Asserts an arbitrary invariant <paramref name="condition"/>, with
    /// <paramref name="message"/> naming it.</summary>
    [Conditional("DEBUG")]
    public static void Assert(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvariantViolationException(message);
        }
    }
}

/// <summary>Thrown, in Debug builds only, by <see cref="Invariants"/> when an internal invariant
/// does not hold: a bug in the engine, never a user error. No Python counterpart.</summary>
internal sealed class InvariantViolationException(string message) : Exception("invariant violated: " + message);
