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

    [Test]
    public void SetRunningOrNotifyCancelOnADoneFutureLogsCriticalAndThrows()
    {
        foreach (var f in new[] { Waits.Finished(1), Waits.CancelledAndNotified() })
        {
            var logger = new CapturingLogger();
            f.Logger = logger;
            var state = f.State;
            var ex = Assert.Throws<InvalidOperationException>(() => f.SetRunningOrNotifyCancel());
            Assert.That(ex!.Message, Is.EqualTo("Future in unexpected state"));
            Assert.That(f.State, Is.EqualTo(state), "the state does not change");
            Assert.That(logger.Entries, Has.Count.EqualTo(1));
            Assert.That(logger.Entries[0].Level, Is.EqualTo(LogLevel.Critical));
            Assert.That(logger.Entries[0].Message, Does.Match($@"^Future \d+ in unexpected state: {Future.StateName(state)}$"));
        }
    }

    [Test]
    public void CancelDoesNotChangeAFinishedOrRunningOutcome()
    {
        var running = Waits.Running();
        Assert.That(running.Cancel(), Is.False);
        running.SetResult(3);
        Assert.That(running.Result(TimeSpan.Zero), Is.EqualTo(3));
        var error = new IOException();
        var failed = Waits.Failed(error);
        Assert.That(failed.Cancel(), Is.False);
        Assert.That(failed.Exception(TimeSpan.Zero), Is.SameAs(error));
        Assert.That(failed.Cancelled(), Is.False);
    }

    [Test]
    public void ExceptionReturnsTheExceptionWithoutThrowing()
    {
        var error = new ArgumentException("bad");
        var f = new Future<int>();
        var t = Waits.Start(() => f.SetException(error));
        Assert.That(f.Exception(Waits.Long), Is.SameAs(error));
        Assert.That(t.Join(Waits.Join), Is.True);
        Assert.That(Assert.Throws<ArgumentException>(() => f.Result(TimeSpan.Zero)), Is.SameAs(error), "the second Result throws the same object too");
    }

    [Test]
    public void ATimedOutResultLeavesTheFuturePending()
    {
        var f = new Future<int>();
        var started = System.Diagnostics.Stopwatch.StartNew();
        Assert.Throws<TimeoutException>(() => f.Result(TimeSpan.FromMilliseconds(100)));
        Assert.That(started.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(90)), "the wait lasted the timeout");
        Assert.That(f.State, Is.EqualTo(FutureState.Pending));
        f.SetResult(4);
        Assert.That(f.Result(TimeSpan.Zero), Is.EqualTo(4));
    }

    [Test]
    public void ACancelledTokenStopsTheWaitOfResultAndException()
    {
        var f = new Future<int>();
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => f.Result(Waits.Long, cts.Token));
        Assert.Throws<OperationCanceledException>(() => f.Exception(Waits.Long, cts.Token));
        Assert.Throws<OperationCanceledException>(() => f.Wait(Waits.Long, cts.Token));
        Assert.That(f.State, Is.EqualTo(FutureState.Pending));

        using var later = new CancellationTokenSource();
        Exception? seen = null;
        var t = Waits.Start(() =>
        {
            try
            {
                f.Exception(Waits.Long, later.Token);
            }
            catch (Exception ex)
            {
                seen = ex;
            }
        });
        Waits.UntilBlocked(t);
        later.Cancel();
        Assert.That(t.Join(Waits.Join), Is.True, "cancelling the token woke the blocked thread");
        Assert.That(seen, Is.InstanceOf<OperationCanceledException>().And.Not.InstanceOf<CancelledException>());

        f.SetResult(8);
        Assert.That(f.Result(Waits.Long, cts.Token), Is.EqualTo(8), "a done future answers whatever the token");
    }

    [Test]
    public void ATokenCancelledAsTheWaitEndsDoesNotDeadlock()
    {
        // The token's callback needs the future's lock; the waiting thread holds it as it leaves the
        // wait. A third thread holds the lock while the waiter is woken and the token is cancelled, so
        // that both queue on the lock.
        for (int round = 0; round < 3; round++)
        {
            var f = Waits.Running();
            using var inLock = new ManualResetEventSlim();
            using var release = new ManualResetEventSlim();
            using var cts = new CancellationTokenSource();
            Exception? seen = null;
            var waiter = Waits.Start(() =>
            {
                try
                {
                    f.Result(Waits.Long, cts.Token);
                }
                catch (Exception ex)
                {
                    seen = ex;
                }
            }, "waiter");
            Waits.UntilBlocked(waiter);
            var holder = Waits.Start(() =>
            {
                lock (f.ListenersLock)
                {
                    f.NotifyAll(); // wakes the waiter, which now needs the lock held here
                    inLock.Set();
                    release.Wait(Waits.Long);
                }
            }, "holder");
            Assert.That(inLock.Wait(Waits.Long), Is.True);
            var canceller = Waits.Start(cts.Cancel, "canceller");
            Waits.UntilBlocked(canceller);
            release.Set();
            Assert.That(waiter.Join(Waits.Join), Is.True, "the waiter deadlocked with the token's callback");
            Assert.That(canceller.Join(Waits.Join), Is.True);
            Assert.That(holder.Join(Waits.Join), Is.True);
            Assert.That(seen, Is.InstanceOf<OperationCanceledException>());
        }
    }

    [Test]
    public void ATokenRacingCompletionEndsEveryWait()
    {
        for (int i = 0; i < 300; i++)
        {
            var f = new Future<int>();
            using var cts = new CancellationTokenSource();
            using var go = new Barrier(2);
            var waiter = Waits.Start(() =>
            {
                try
                {
                    f.Result(Waits.Long, cts.Token);
                }
                catch (OperationCanceledException)
                {
                }
            });
            Waits.UntilBlocked(waiter);
            var setter = Waits.Start(() => { go.SignalAndWait(); f.SetResult(i); });
            var canceller = Waits.Start(() => { go.SignalAndWait(); cts.Cancel(); });
            Assert.That(waiter.Join(Waits.Join) && setter.Join(Waits.Join) && canceller.Join(Waits.Join), Is.True, $"round {i} hung");
        }
    }

    [Test]
    public void WaitReportsDoneWithoutThrowing()
    {
        var f = new Future<int>();
        Assert.That(f.Wait(TimeSpan.FromMilliseconds(20)), Is.False);
        Assert.That(Waits.Failed(new IOException()).Wait(TimeSpan.Zero), Is.True);
        Assert.That(Waits.Cancelled().Wait(TimeSpan.Zero), Is.True);
        var t = Waits.Start(() => f.SetResult(1));
        Assert.That(f.Wait(Waits.Long), Is.True);
        Assert.That(t.Join(Waits.Join), Is.True);
    }

    [Test]
    public void CallbacksRunInTheCompletingThreadWithTheFuture()
    {
        var f = new Future<int>();
        Future? argument = null;
        int thread = 0;
        f.AddDoneCallback((Future done) =>
        {
            argument = done;
            thread = Environment.CurrentManagedThreadId;
        });
        int completer = 0;
        var t = Waits.Start(() =>
        {
            completer = Environment.CurrentManagedThreadId;
            f.SetException(new IOException());
        });
        Assert.That(t.Join(Waits.Join), Is.True);
        Assert.That(argument, Is.SameAs(f));
        Assert.That(thread, Is.EqualTo(completer));
    }

    [Test]
    public void CallbacksRunOnceEvenWhenAddedDuringCompletion()
    {
        var f = new Future<int>();
        var calls = new List<string>();
        f.AddDoneCallback(done =>
        {
            calls.Add("first");
            done.AddDoneCallback(_ => calls.Add("added while running callbacks")); // done: runs at once
        });
        f.AddDoneCallback(_ => calls.Add("second"));
        f.SetResult(1);
        Assert.Throws<InvalidStateException>(() => f.SetResult(2));
        f.Cancel();
        Assert.That(calls, Is.EqualTo(new[] { "first", "added while running callbacks", "second" }));
    }

    [Test]
    public void ACallbackExceptionGoesToTheSharedLoggerWhenTheFutureHasNone()
    {
        var previous = FuturesLogging.Logger;
        var logger = new CapturingLogger();
        FuturesLogging.Logger = logger;
        try
        {
            var f = new Future<int>();
            f.AddDoneCallback(_ => throw new ArithmeticException("boom"));
            Assert.DoesNotThrow(() => f.Cancel());
            Assert.That(logger.Entries, Has.Count.EqualTo(1));
            Assert.That(logger.Entries[0].Message, Does.Match("^exception calling callback for <Future at 0x[0-9a-f]+ state=cancelled>$"));
            Assert.That(logger.Entries[0].Exception, Is.InstanceOf<ArithmeticException>());
        }
        finally
        {
            FuturesLogging.Logger = previous;
        }
    }

    [Test]
    public async Task AwaitingADoneFutureAndTheNonGenericView()
    {
        Assert.That(await Waits.Finished(6), Is.EqualTo(6));
        Future untyped = Waits.Finished(7);
        await untyped; // completes without throwing
        Assert.That(await untyped.AsTask().ContinueWith(t => t.Status), Is.EqualTo(TaskStatus.RanToCompletion));

        var error = new IOException();
        Future failed = Waits.Failed(error);
        Assert.That(Assert.ThrowsAsync<IOException>(async () => await failed), Is.SameAs(error));
        var faulted = failed.AsTask();
        Assert.That(await faulted.ContinueWith(t => t.Exception!.InnerException), Is.SameAs(error));

        Future cancelled = Waits.CancelledAndNotified();
        Assert.ThrowsAsync<CancelledException>(async () => await cancelled);
        Assert.That(await cancelled.AsTask().ContinueWith(t => t.IsCanceled), Is.True);
    }

    [Test]
    public async Task AwaitResumesOffTheCompletingThread()
    {
        var f = new Future<int>();
        int completer = 0;
        var awaited = AwaitAndReportThread(f);
        var t = Waits.Start(() =>
        {
            completer = Environment.CurrentManagedThreadId;
            f.SetResult(1);
        });
        Assert.That(t.Join(Waits.Join), Is.True);
        int resumedOn = await awaited.WaitAsync(Waits.Long);
        Assert.That(resumedOn, Is.Not.EqualTo(completer), "the continuation does not run on the completing thread");

        static async Task<int> AwaitAndReportThread(Future<int> f)
        {
            await f;
            return Environment.CurrentManagedThreadId;
        }
    }

    [Test]
    public void ResultObjectAndSubmittedActionsGiveNull()
    {
        using var executor = new ThreadPoolExecutor(1);
        var f = executor.Submit(() => { });
        Assert.That(f.Result(Waits.Long), Is.Null);
        Assert.That(((Future)Waits.Finished(3)).ResultObject(), Is.EqualTo(3));
    }
}
