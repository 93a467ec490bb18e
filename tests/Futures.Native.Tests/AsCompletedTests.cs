using System.Runtime.CompilerServices;

namespace Futures.Native.Tests;

public class AsCompletedTests
{
    [Test]
    public void FinishedFirstThenInCompletionOrder()
    {
        var done = Waits.Finished(0);
        var a = new Future<int>();
        var b = new Future<int>();
        var order = new List<Future<int>>();
        foreach (var f in CsFutures.Futures.AsCompleted(new[] { a, b, done }, Waits.Long))
        {
            order.Add(f);
            if (order.Count == 1)
            {
                b.SetResult(2);
            }
            else if (order.Count == 2)
            {
                a.SetResult(1);
            }
        }
        Assert.That(order, Is.EqualTo(new[] { done, b, a }));
    }

    [Test]
    public void EachFutureOnceEvenWhenRepeated()
    {
        var a = Waits.Finished(1);
        var b = Waits.CancelledAndNotified();
        var yielded = CsFutures.Futures.AsCompleted(new[] { a, a, b, a }).ToList();
        Assert.That(yielded, Has.Count.EqualTo(2));
        Assert.That(yielded, Is.EquivalentTo(new[] { a, b }));
    }

    [Test]
    public void TimeoutNamesTheUnfinishedCount()
    {
        var futures = new[] { Waits.CancelledAndNotified(), new Future<int>(), RunningFuture(), Waits.Finished(1) };
        var yielded = new List<Future<int>>();
        var ex = Assert.Throws<TimeoutException>(() =>
        {
            foreach (var f in CsFutures.Futures.AsCompleted(futures, TimeSpan.Zero))
            {
                yielded.Add(f);
            }
        });
        Assert.That(ex!.Message, Is.EqualTo("2 (of 4) futures unfinished"));
        Assert.That(yielded, Has.Count.EqualTo(2), "finished ones are yielded before the timeout");

        static Future<int> RunningFuture()
        {
            var f = new Future<int>();
            f.SetRunningOrNotifyCancel();
            return f;
        }
    }

    [Test]
    public void KeepsNoReferenceToYieldedFutures()
    {
        var pending = new Future<int>();
        var (iterator, weak) = StartIteration(pending);
        pending.SetResult(2);
        Assert.That(iterator.MoveNext(), Is.True, "the iteration moved past the first future");
        Assert.That(iterator.Current, Is.SameAs(pending));
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.That(weak.IsAlive, Is.False, "a yielded future is not kept by the iteration");
        Assert.That(iterator.MoveNext(), Is.False);
        iterator.Dispose();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (IEnumerator<Future<int>>, WeakReference) StartIteration(Future<int> pending)
    {
        var iterator = CsFutures.Futures.AsCompleted(new List<Future<int>> { Waits.Finished(1), pending }).GetEnumerator();
        Assert.That(iterator.MoveNext(), Is.True);
        return (iterator, new WeakReference(iterator.Current));
    }

    [Test]
    public async Task AsyncVariantYieldsInOrderAndTimesOut()
    {
        var done = Waits.Finished(0);
        var later = new Future<int>();
        var seen = new List<Future<int>>();
        await foreach (var f in CsFutures.Futures.AsCompletedAsync(new[] { later, done }, Waits.Long))
        {
            seen.Add(f);
            if (seen.Count == 1)
            {
                _ = Task.Run(() => later.SetResult(1));
            }
        }
        Assert.That(seen, Is.EqualTo(new[] { done, later }));

        var never = new Future<int>();
        var ex = Assert.ThrowsAsync<TimeoutException>(async () =>
        {
            await foreach (var f in CsFutures.Futures.AsCompletedAsync(new[] { never, done }, TimeSpan.FromMilliseconds(50)))
            {
            }
        });
        Assert.That(ex!.Message, Is.EqualTo("1 (of 2) futures unfinished"));
    }
}
