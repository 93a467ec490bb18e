namespace Futures.Native.Tests;

/// <summary>The Debug-only lock assertions: in a Debug build a violation throws; in a Release build
/// the compiler removes the call, so the same violation passes silently. test.sh runs this suite in
/// both configurations, so each branch below runs.</summary>
public class InvariantsTests
{
#if DEBUG
    private static readonly bool Checked = true;
#else
    private static readonly bool Checked = false;
#endif

    [Test]
    public void HeldLockPasses()
    {
        var l = new Lock();
        lock (l)
        {
            Invariants.AssertHeld(l);
        }
        Invariants.AssertNotHeld(l);
    }

    [Test]
    public void HeldMonitorPasses()
    {
        var o = new object();
        lock (o)
        {
            Invariants.AssertHeld(o);
        }
        Invariants.AssertNotHeld(o);
    }

    [Test]
    public void MissingLockIsAViolationInDebugOnly()
    {
        var l = new Lock();
        AssertViolation(() => Invariants.AssertHeld(l));
        lock (l)
        {
            AssertViolation(() => Invariants.AssertNotHeld(l));
        }
    }

    [Test]
    public void MissingMonitorIsAViolationInDebugOnly()
    {
        var o = new object();
        AssertViolation(() => Invariants.AssertHeld(o));
        lock (o)
        {
            AssertViolation(() => Invariants.AssertNotHeld(o));
        }
    }

    [Test]
    public void LockHeldByAnotherThreadIsNotHeldByThisOne()
    {
        var l = new Lock();
        using var taken = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var holder = new Thread(() =>
        {
            lock (l)
            {
                taken.Set();
                release.Wait();
            }
        });
        holder.Start();
        taken.Wait();
        try
        {
            AssertViolation(() => Invariants.AssertHeld(l));
            Invariants.AssertNotHeld(l);
        }
        finally
        {
            release.Set();
            holder.Join();
        }
    }

    [Test]
    public void FalseConditionIsAViolationInDebugOnly()
    {
        Invariants.Assert(true, "holds");
        AssertViolation(() => Invariants.Assert(false, "the queue is empty"), "the queue is empty");
    }

    private static void AssertViolation(TestDelegate call, string? message = null)
    {
        if (Checked)
        {
            var e = Assert.Throws<InvariantViolationException>(call);
            if (message is not null)
            {
                Assert.That(e!.Message, Does.Contain(message));
            }
        }
        else
        {
            Assert.DoesNotThrow(call, "a Release build compiles the check away");
        }
    }
}
