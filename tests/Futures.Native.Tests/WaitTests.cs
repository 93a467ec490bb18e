using System.Diagnostics;

namespace Futures.Native.Tests;

public class WaitTests
{
    [Test]
    public void AllCompletedWaitsForEveryFuture()
    {
        var a = new Future<int>();
        var b = new Future<int>();
        var t = new Thread(() =>
        {
            a.SetResult(1);
            b.SetException(new IOException());
        });
        t.Start();
        var (done, notDone) = CsFutures.Futures.Wait(new[] { a, b }, Waits.Long);
        Assert.That(done, Is.EquivalentTo(new[] { a, b }));
        Assert.That(notDone, Is.Empty);
        t.Join();
    }

    [Test]
    public void DuplicatesCollapse()
    {
        var a = Waits.Finished(1);
        var result = CsFutures.Futures.Wait(new[] { a, a, a });
        Assert.That(result.Done, Has.Count.EqualTo(1));
    }

    [Test]
    public void FirstCompletedReturnsAtOnceWhenOneIsDone()
    {
        var done = Waits.Finished(1);
        var pending = new Future<int>();
        var result = CsFutures.Futures.Wait(new[] { done, pending }, Waits.Long, ReturnWhen.FirstCompleted);
        Assert.That(result.Done, Is.EquivalentTo(new[] { done }));
        Assert.That(result.NotDone, Is.EquivalentTo(new[] { pending }));
    }

    [Test]
    public void FirstCompletedWakesOnTheFirstCompletion()
    {
        var a = new Future<int>();
        var b = new Future<int>();
        var t = new Thread(() => b.SetResult(2));
        t.Start();
        var result = CsFutures.Futures.Wait(new[] { a, b }, Waits.Long, ReturnWhen.FirstCompleted);
        Assert.That(result.Done, Is.EquivalentTo(new[] { b }));
        Assert.That(result.NotDone, Is.EquivalentTo(new[] { a }));
        t.Join();
    }

    [Test]
    public void FirstExceptionReturnsOnAFailureAndOtherwiseWaitsForAll()
    {
        var failed = Waits.Failed(new IOException());
        var pending = new Future<int>();
        var result = CsFutures.Futures.Wait(new[] { failed, pending }, Waits.Long, ReturnWhen.FirstException);
        Assert.That(result.Done, Is.EquivalentTo(new[] { failed }));

        var ok = Waits.Finished(1);
        var zero = CsFutures.Futures.Wait(new[] { ok, pending }, TimeSpan.FromMilliseconds(50), ReturnWhen.FirstException);
        Assert.That(zero.NotDone, Is.EquivalentTo(new[] { pending }), "a success alone does not end FIRST_EXCEPTION");

        var later = new Future<int>();
        var t = new Thread(() => later.SetException(new IOException()));
        t.Start();
        var woke = CsFutures.Futures.Wait(new[] { ok, pending, later }, Waits.Long, ReturnWhen.FirstException);
        Assert.That(woke.Done, Is.EquivalentTo(new[] { ok, later }));
        t.Join();
    }

    [Test]
    public void ACancelledButNotNotifiedFutureIsNotDoneForWait()
    {
        var cancelled = new Future<int>();
        cancelled.Cancel();
        var result = CsFutures.Futures.Wait(new[] { cancelled }, TimeSpan.FromMilliseconds(50), ReturnWhen.FirstCompleted);
        Assert.That(result.NotDone, Is.EquivalentTo(new[] { cancelled }));

        var t = new Thread(() => cancelled.SetRunningOrNotifyCancel());
        t.Start();
        result = CsFutures.Futures.Wait(new[] { cancelled }, Waits.Long);
        Assert.That(result.Done, Is.EquivalentTo(new[] { cancelled }));
        t.Join();
    }

    [Test]
    public void TimeoutReturnsNotDoneWithoutThrowing()
    {
        var pending = new Future<int>();
        var done = Waits.Finished(1);
        var result = CsFutures.Futures.Wait(new[] { pending, done }, TimeSpan.FromMilliseconds(20));
        Assert.That(result.Done, Is.EquivalentTo(new[] { done }));
        Assert.That(result.NotDone, Is.EquivalentTo(new[] { pending }));
    }

    [Test]
    public void MixedResultTypesWaitTogether()
    {
        var futures = new Future[] { Waits.Finished(1), WithResult("x") };
        Assert.That(CsFutures.Futures.Wait(futures).Done, Has.Count.EqualTo(2));

        static Future<string> WithResult(string value)
        {
            var f = new Future<string>();
            f.SetResult(value);
            return f;
        }
    }

    [Test]
    public void PendingDuplicatesCountOnceForAllCompleted()
    {
        // CPython bpo-20369: wait([f, f]) must not wait for two completions of one future.
        var f = new Future<int>();
        var t = Waits.Start(() => f.SetResult(1));
        var watch = Stopwatch.StartNew();
        var (done, notDone) = CsFutures.Futures.Wait(new[] { f, f }, TimeSpan.FromSeconds(10));
        Assert.That(done, Is.EquivalentTo(new[] { f }));
        Assert.That(notDone, Is.Empty);
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "returned when the one future finished");
        Assert.That(t.Join(Waits.Join), Is.True);
    }

    [Test]
    public void EmptyInputReturnsAtOnce()
    {
        var result = CsFutures.Futures.Wait(Array.Empty<Future<int>>(), Waits.Long);
        Assert.That(result.Done, Is.Empty);
        Assert.That(result.NotDone, Is.Empty);
    }

    [Test]
    public void AllCompletedDoesNotCountACancelledButNotNotifiedFuture()
    {
        var cancelled = Waits.Cancelled();
        var finished = Waits.Finished(1);
        var watch = Stopwatch.StartNew();
        var result = CsFutures.Futures.Wait(new[] { cancelled, finished }, TimeSpan.FromMilliseconds(100));
        Assert.That(watch.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(80)), "waited out the timeout");
        Assert.That(result.Done, Is.EquivalentTo(new[] { finished }));
        Assert.That(result.NotDone, Is.EquivalentTo(new[] { cancelled }));
    }

    [Test]
    public void FirstExceptionIsNotEndedByACancellationOrASuccess()
    {
        var notified = Waits.CancelledAndNotified();
        var ok = Waits.Finished(1);
        var pending = new Future<int>();
        var watch = Stopwatch.StartNew();
        var result = CsFutures.Futures.Wait(new[] { notified, ok, pending }, TimeSpan.FromMilliseconds(100), ReturnWhen.FirstException);
        Assert.That(watch.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(80)), "no early return without an exception");
        Assert.That(result.Done, Is.EquivalentTo(new Future<int>[] { notified, ok }));
        Assert.That(result.NotDone, Is.EquivalentTo(new[] { pending }));

        // Without any exception, FIRST_EXCEPTION returns once all are done.
        var t = Waits.Start(() => pending.SetResult(2));
        result = CsFutures.Futures.Wait(new[] { notified, ok, pending }, Waits.Long, ReturnWhen.FirstException);
        Assert.That(result.Done, Has.Count.EqualTo(3));
        Assert.That(t.Join(Waits.Join), Is.True);
    }

    [Test]
    public void FirstCompletedWakesOnACancellationNotification()
    {
        var cancelled = Waits.Cancelled();
        var other = new Future<int>();
        using var executor = new ThreadPoolExecutor(1);
        // The executor's notification is what makes the cancelled future count.
        var t = Waits.Start(() => cancelled.SetRunningOrNotifyCancel());
        var watch = Stopwatch.StartNew();
        var result = CsFutures.Futures.Wait(new[] { cancelled, other }, Waits.Long, ReturnWhen.FirstCompleted);
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)));
        Assert.That(result.Done, Is.EquivalentTo(new[] { cancelled }));
        Assert.That(result.NotDone, Is.EquivalentTo(new[] { other }));
        Assert.That(t.Join(Waits.Join), Is.True);
    }

    [Test]
    public void FirstExceptionReturnsAtOnceWhenOneAlreadyFailed()
    {
        var failed = Waits.Failed(new IOException());
        var ok = Waits.Finished(2);
        var pending = new Future<int>();
        var watch = Stopwatch.StartNew();
        var result = CsFutures.Futures.Wait(new[] { ok, failed, pending }, Waits.Long, ReturnWhen.FirstException);
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)));
        Assert.That(result.Done, Is.EquivalentTo(new[] { ok, failed }));
        Assert.That(result.NotDone, Is.EquivalentTo(new[] { pending }));
    }

    [Test]
    public void TheTimeoutIsHonouredAndNothingThrows()
    {
        var pending = new Future<int>();
        foreach (var when in Enum.GetValues<ReturnWhen>())
        {
            var watch = Stopwatch.StartNew();
            DoneAndNotDone<Future<int>>? result = null;
            Assert.DoesNotThrow(() => result = CsFutures.Futures.Wait(new[] { pending }, TimeSpan.FromMilliseconds(60), when));
            Assert.That(watch.Elapsed, Is.InRange(TimeSpan.FromMilliseconds(45), TimeSpan.FromSeconds(10)), when.ToString());
            Assert.That(result!.NotDone, Is.EquivalentTo(new[] { pending }));
        }
    }

    [Test]
    public void AnInvalidReturnWhenIsRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CsFutures.Futures.Wait(new[] { new Future<int>() }, returnWhen: (ReturnWhen)42));
    }

    [Test]
    public void ACancellationTokenStopsTheWait()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        var pending = new Future<int>();
        Assert.That(() => CsFutures.Futures.Wait(new[] { pending }, Waits.Long, cancellationToken: cts.Token),
            Throws.InstanceOf<OperationCanceledException>());
        Assert.That(pending.State, Is.EqualTo(FutureState.Pending));
    }
}
