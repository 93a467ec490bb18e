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
}
