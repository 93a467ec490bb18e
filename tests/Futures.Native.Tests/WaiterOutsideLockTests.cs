namespace Futures.Native.Tests;

/// <summary>Waiters that a future tells after releasing its listeners' lock
/// (<c>Waiter.TellsOutsideLock</c>, the Python bridge's waiter, which takes the GIL to report): told
/// once, with what happened, at FINISHED or CANCELLED_AND_NOTIFIED only, and never under the lock.</summary>
public class WaiterOutsideLockTests
{
    /// <summary>Records each report and whether the future's listeners' lock was held then.</summary>
    private sealed class Recording(bool outside) : Waiter
    {
        public readonly List<(string Kind, bool UnderLock)> Reports = [];

        internal override bool TellsOutsideLock => outside;

        public override void AddResult(Future future, int token) => Note("result", future);

        public override void AddException(Future future, int token) => Note("exception", future);

        public override void AddCancelled(Future future, int token) => Note("cancelled", future);

        private void Note(string kind, Future future)
        {
            lock (Reports)
            {
                Reports.Add((kind, Monitor.IsEntered(future.ListenersLock)));
            }
        }
    }

    [Test]
    public void AWaiterThatAsksIsToldOutsideTheLockAndTheOthersInside()
    {
        var f = new Future<int>();
        var outside = new Recording(outside: true);
        var inside = new Recording(outside: false);
        Assert.That(f.TryInstallWaiter(outside), Is.True);
        Assert.That(f.TryInstallWaiter(inside), Is.True);
        f.SetResult(1);
        Assert.That(outside.Reports, Is.EqualTo(new[] { ("result", false) }));
        Assert.That(inside.Reports, Is.EqualTo(new[] { ("result", true) }));
        Assert.That(f.WaiterCount, Is.Zero, "told waiters are dropped");
        Assert.That(f.TryInstallWaiter(new Recording(true)), Is.False, "a finished future takes no waiter");
    }

    [Test]
    public void ToldTheExceptionAndTheNotifiedCancelButNotAPlainCancel()
    {
        var failed = new Future<int>();
        var cancelled = new Future<int>();
        var waiter = new Recording(outside: true);
        failed.TryInstallWaiter(waiter);
        cancelled.TryInstallWaiter(waiter);
        failed.SetException(new IOException());
        Assert.That(cancelled.Cancel(), Is.True);
        Assert.That(waiter.Reports, Is.EqualTo(new[] { ("exception", false) }), "not told at a plain cancel");
        Assert.That(cancelled.SetRunningOrNotifyCancel(), Is.False);
        Assert.That(waiter.Reports, Is.EqualTo(new[] { ("exception", false), ("cancelled", false) }));
    }

    [Test]
    public void ARemovedWaiterIsNotTold()
    {
        var f = new Future<int>();
        var waiter = new Recording(outside: true);
        f.TryInstallWaiter(waiter);
        f.RemoveWaiter(waiter);
        f.RemoveWaiter(waiter); // removing twice, or a waiter never installed, is harmless
        f.SetResult(1);
        Assert.That(waiter.Reports, Is.Empty);
    }

    [Test]
    public void InstallingRacingCompletionTellsAtMostOnceAndOnlyWhenInstalled()
    {
        for (int round = 0; round < 1000; round++)
        {
            var f = new Future<int>();
            var waiter = new Recording(outside: true);
            using var go = new Barrier(2);
            bool installed = false;
            var installer = Waits.Start(() => { go.SignalAndWait(); installed = f.TryInstallWaiter(waiter); });
            var setter = Waits.Start(() => { go.SignalAndWait(); f.SetResult(round); });
            Assert.That(installer.Join(Waits.Join) && setter.Join(Waits.Join), Is.True, $"round {round} hung");
            Assert.That(waiter.Reports.Count, Is.EqualTo(installed ? 1 : 0), $"round {round}");
        }
    }
}
