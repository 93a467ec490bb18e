using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace Futures.Native.Tests;

public class FutureTests
{
    [Test]
    public void CancelFollowsCPythonRules()
    {
        var pending = new Future<int>();
        Assert.That(pending.Cancel(), Is.True);
        Assert.That(pending.State, Is.EqualTo(FutureState.Cancelled));
        Assert.That(pending.Cancel(), Is.True, "cancelling twice returns true");

        var running = new Future<int>();
        Assert.That(running.SetRunningOrNotifyCancel(), Is.True);
        Assert.That(running.Cancel(), Is.False);
        Assert.That(running.State, Is.EqualTo(FutureState.Running));

        Assert.That(Waits.Finished(5).Cancel(), Is.False);
        Assert.That(Waits.Failed(new IOException()).Cancel(), Is.False);
        var notified = Waits.CancelledAndNotified();
        Assert.That(notified.Cancel(), Is.True);
        Assert.That(notified.State, Is.EqualTo(FutureState.CancelledAndNotified));
    }

    [Test]
    public void StatePredicates()
    {
        var pending = new Future<int>();
        var running = new Future<int>();
        running.SetRunningOrNotifyCancel();
        var cancelled = new Future<int>();
        cancelled.Cancel();
        var finished = Waits.Finished(1);

        Assert.That(new[] { pending.Done(), running.Done(), cancelled.Done(), finished.Done() }, Is.EqualTo(new[] { false, false, true, true }));
        Assert.That(new[] { pending.Running(), running.Running(), cancelled.Running(), finished.Running() }, Is.EqualTo(new[] { false, true, false, false }));
        Assert.That(new[] { pending.Cancelled(), running.Cancelled(), cancelled.Cancelled(), finished.Cancelled() }, Is.EqualTo(new[] { false, false, true, false }));
    }

    [Test]
    public void SetRunningOrNotifyCancelTransitions()
    {
        var cancelled = new Future<int>();
        cancelled.Cancel();
        Assert.That(cancelled.SetRunningOrNotifyCancel(), Is.False);
        Assert.That(cancelled.State, Is.EqualTo(FutureState.CancelledAndNotified));

        var running = new Future<int>();
        Assert.That(running.SetRunningOrNotifyCancel(), Is.True);
        var ex = Assert.Throws<InvalidOperationException>(() => running.SetRunningOrNotifyCancel());
        Assert.That(ex!.Message, Is.EqualTo("Future in unexpected state"));
    }

    [Test]
    public void ResultAndExceptionWithZeroTimeout()
    {
        Assert.Throws<TimeoutException>(() => new Future<int>().Result(TimeSpan.Zero));
        Assert.Throws<TimeoutException>(() => new Future<int>().Exception(TimeSpan.Zero));
        var cancelled = new Future<int>();
        cancelled.Cancel();
        Assert.Throws<CancelledException>(() => cancelled.Result(TimeSpan.Zero));
        Assert.Throws<CancelledException>(() => cancelled.Exception(TimeSpan.Zero));
        Assert.Throws<CancelledException>(() => Waits.CancelledAndNotified().Result(TimeSpan.Zero));
        Assert.That(Waits.Finished(42).Result(TimeSpan.Zero), Is.EqualTo(42));
        Assert.That(Waits.Finished(42).Exception(TimeSpan.Zero), Is.Null);
    }

    [Test]
    public void ResultRethrowsTheSameExceptionObject()
    {
        var error = new IOException("disk");
        var f = Waits.Failed(error);
        var thrown = Assert.Throws<IOException>(() => f.Result());
        Assert.That(thrown, Is.SameAs(error));
        Assert.That(f.Exception(), Is.SameAs(error));
        Assert.That(Assert.Throws<IOException>(() => f.ResultObject()), Is.SameAs(error));
    }

    [Test]
    public void ResultWaitsForAnotherThread()
    {
        var f = new Future<int>();
        var t = new Thread(() => f.SetResult(7));
        t.Start();
        Assert.That(f.Result(Waits.Long), Is.EqualTo(7));
        t.Join();
    }

    [Test]
    public void CancelWakesAThreadBlockedInResult()
    {
        var f = new Future<int>();
        var blocked = new ManualResetEventSlim();
        Exception? seen = null;
        var t = new Thread(() =>
        {
            blocked.Set();
            try
            {
                f.Result(Waits.Long);
            }
            catch (Exception ex)
            {
                seen = ex;
            }
        });
        t.Start();
        blocked.Wait(Waits.Long);
        f.Cancel();
        Assert.That(t.Join(Waits.Long), Is.True);
        Assert.That(seen, Is.InstanceOf<CancelledException>());
    }

    [Test]
    public void CancellationTokenStopsTheWaitNotTheFuture()
    {
        var f = new Future<int>();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        Assert.Throws<OperationCanceledException>(() => f.Result(Waits.Long, cts.Token));
        Assert.That(f.State, Is.EqualTo(FutureState.Pending));
    }

    [Test]
    public void SetResultOnADoneFutureThrowsWithCPythonsMessage()
    {
        var f = Waits.Finished(1);
        var ex = Assert.Throws<InvalidStateException>(() => f.SetResult(2));
        Assert.That(ex!.Message, Does.Match(@"^FINISHED: <Future at 0x[0-9a-f]+ state=finished returned Int32>$"));
        Assert.That(f.Result(), Is.EqualTo(1), "the first result stands");
        Assert.Throws<InvalidStateException>(() => f.SetException(new Exception()));

        var cancelled = new Future<int>();
        cancelled.Cancel();
        Assert.That(Assert.Throws<InvalidStateException>(() => cancelled.SetResult(1))!.Message, Does.StartWith("CANCELLED: <Future at"));
    }

    [Test]
    public void ToStringMirrorsCPythonsRepr()
    {
        var running = new Future<int>();
        running.SetRunningOrNotifyCancel();
        var cancelled = new Future<int>();
        cancelled.Cancel();
        Assert.That(new Future<int>().ToString(), Does.Match("^<Future at 0x[0-9a-f]+ state=pending>$"));
        Assert.That(running.ToString(), Does.Match("^<Future at 0x[0-9a-f]+ state=running>$"));
        Assert.That(cancelled.ToString(), Does.Match("^<Future at 0x[0-9a-f]+ state=cancelled>$"));
        Assert.That(Waits.CancelledAndNotified().ToString(), Does.Match("^<Future at 0x[0-9a-f]+ state=cancelled>$"));
        Assert.That(Waits.Failed(new IOException()).ToString(), Does.Match("^<Future at 0x[0-9a-f]+ state=finished raised IOException>$"));
        Assert.That(Waits.Finished(42).ToString(), Does.Match("^<Future at 0x[0-9a-f]+ state=finished returned Int32>$"));
    }

    [Test]
    public void CallbacksRunInOrderWhenDone()
    {
        var f = new Future<int>();
        var order = new List<int>();
        f.AddDoneCallback(_ => order.Add(1));
        f.AddDoneCallback(_ => order.Add(2));
        Assert.That(order, Is.Empty);
        f.SetResult(5);
        Assert.That(order, Is.EqualTo(new[] { 1, 2 }));
    }

    [Test]
    public void CallbackOnADoneFutureRunsAtOnceInTheCaller()
    {
        var f = Waits.Finished(5);
        int? thread = null;
        int seen = 0;
        f.AddDoneCallback((Future<int> done) =>
        {
            thread = Environment.CurrentManagedThreadId;
            seen = done.Result();
        });
        Assert.That(thread, Is.EqualTo(Environment.CurrentManagedThreadId));
        Assert.That(seen, Is.EqualTo(5));
    }

    [Test]
    public void CallbacksRunOnCancel()
    {
        var f = new Future<int>();
        bool sawCancelled = false;
        f.AddDoneCallback(done => sawCancelled = done.Cancelled());
        f.Cancel();
        Assert.That(sawCancelled, Is.True);
    }

    [Test]
    public void ACallbacksExceptionIsLoggedAndNotPropagated()
    {
        var logger = new CapturingLogger();
        var f = new Future<int> { Logger = logger };
        bool secondRan = false;
        f.AddDoneCallback(_ => throw new InvalidOperationException("callback failed"));
        f.AddDoneCallback(_ => secondRan = true);
        Assert.DoesNotThrow(() => f.SetResult(1));
        Assert.That(secondRan, Is.True);
        Assert.That(logger.Entries, Has.Count.EqualTo(1));
        Assert.That(logger.Entries[0].Level, Is.EqualTo(LogLevel.Error));
        Assert.That(logger.Entries[0].Message, Does.StartWith("exception calling callback for <Future at"));
        Assert.That(logger.Entries[0].Exception, Is.InstanceOf<InvalidOperationException>());
        Assert.DoesNotThrow(() => f.AddDoneCallback(_ => throw new Exception("at once")));
        Assert.That(logger.Entries, Has.Count.EqualTo(2));
    }

    [Test]
    public async Task AwaitGivesTheResultTheExceptionOrCancelled()
    {
        var f = new Future<int>();
        _ = Task.Run(() => f.SetResult(3));
        Assert.That(await f, Is.EqualTo(3));

        var error = new IOException("x");
        var failed = new Future<int>();
        _ = Task.Run(() => failed.SetException(error));
        var thrown = Assert.ThrowsAsync<IOException>(async () => await failed);
        Assert.That(thrown, Is.SameAs(error));

        var cancelled = new Future<int>();
        _ = Task.Run(() => cancelled.Cancel());
        Assert.ThrowsAsync<CancelledException>(async () => await cancelled);
    }

    [Test]
    public async Task AsTaskMapsTheOutcome()
    {
        Assert.That(await Waits.Finished(9).AsTask(), Is.EqualTo(9));
        var cancelled = new Future<int>();
        var task = cancelled.AsTask();
        cancelled.Cancel();
        Assert.That(async () => await task, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(task.IsCanceled, Is.True);
        var failed = Waits.Failed(new IOException()).AsTask();
        Assert.That(async () => await failed, Throws.InstanceOf<IOException>());
    }

    [Test]
    public void StateNamesAreCPythons()
    {
        Assert.That(Enum.GetValues<FutureState>().Select(Future.StateName),
            Is.EqualTo(new[] { "PENDING", "RUNNING", "CANCELLED", "CANCELLED_AND_NOTIFIED", "FINISHED" }));
    }
}
