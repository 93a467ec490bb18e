namespace Futures.Native.Tests;

/// <summary>as_completed's single pass over the futures (set, waiter, done check), its shared
/// waiter (one wake-up per take), and the waiters that futures drop once they told them.</summary>
public class AsCompletedPassTests
{
    private static int Waiters(Future f) => f.WaiterCount;

    [Test]
    public void DoneFuturesComeFirstInTheOrderGivenEachOnce()
    {
        var fs = Enumerable.Range(0, 300).Select(i => i % 3 == 0 ? Waits.Finished(i) : new Future<int>()).ToArray();
        var given = fs.Concat(fs.Reverse()).Concat(fs).ToArray(); // every future three times
        using var iterator = CsFutures.Futures.AsCompleted(given, Waits.Long).GetEnumerator();
        var yielded = new List<Future<int>>();
        for (int i = 0; i < 100; i++)
        {
            Assert.That(iterator.MoveNext(), Is.True);
            yielded.Add(iterator.Current);
        }
        Assert.That(yielded, Is.EqualTo(fs.Where((_, i) => i % 3 == 0)), "the done ones, in the order given");
        var pending = fs.Where((_, i) => i % 3 != 0).ToArray();
        for (int i = pending.Length - 1; i >= 0; i--)
        {
            pending[i].SetResult(i);
            Assert.That(iterator.MoveNext(), Is.True);
            Assert.That(iterator.Current, Is.SameAs(pending[i]), "then in completion order");
        }
        Assert.That(iterator.MoveNext(), Is.False, "each future once");
    }

    [Test]
    public void RepeatsOfFuturesMadeOnManyThreadsAreYieldedOnce()
    {
        // Futures made on different threads have overlapping runs of identity hashes: the repeats
        // table must still tell them apart by reference.
        var made = Enumerable.Range(0, 4)
            .Select(t => Task.Run(() => Enumerable.Range(0, 3_000).Select(i => i % 2 == 0 ? Waits.Finished(i) : new Future<int>()).ToArray()))
            .SelectMany(t => t.Result)
            .ToArray();
        var given = made.Concat(made.Reverse()).OrderBy(f => f.GetHashCode()).ToArray();
        var seen = new HashSet<Future<int>>(ReferenceEqualityComparer.Instance);
        using var iterator = CsFutures.Futures.AsCompleted(given, Waits.Long).GetEnumerator();
        for (int i = 0; i < made.Length / 2; i++)
        {
            Assert.That(iterator.MoveNext() && seen.Add(iterator.Current), Is.True, "the done ones, each once");
        }
        foreach (var f in made.Where(f => !f.Done()))
        {
            f.SetResult(0);
        }
        while (iterator.MoveNext())
        {
            Assert.That(seen.Add(iterator.Current), Is.True, "a future was yielded twice");
        }
        Assert.That(seen, Has.Count.EqualTo(made.Length));
    }

    [Test]
    public void ANullFutureIsRefused()
    {
        var iteration = CsFutures.Futures.AsCompleted(new[] { Waits.Finished(1), null! });
        var ex = Assert.Throws<ArgumentException>(() => iteration.ToList());
        Assert.That(ex!.ParamName, Is.EqualTo("fs"));
    }

    [Test]
    public void TheTimeoutCountsTheDistinctUnfinished()
    {
        var a = new Future<int>();
        var b = new Future<int>();
        var done = Waits.Finished(1);
        using var iterator = CsFutures.Futures.AsCompleted(new[] { a, done, b, a, done }, TimeSpan.FromMilliseconds(20)).GetEnumerator();
        Assert.That(iterator.MoveNext() && iterator.Current == done, Is.True);
        var ex = Assert.Throws<TimeoutException>(() => iterator.MoveNext());
        Assert.That(ex!.Message, Is.EqualTo("2 (of 3) futures unfinished"));
    }

    [Test]
    public void ManyCompletingThreadsLoseNoWakeUp()
    {
        const int n = 20_000;
        for (int round = 0; round < 5; round++)
        {
            var fs = Enumerable.Range(0, n).Select(_ => new Future<int>()).ToArray();
            var completers = Enumerable.Range(0, 4).Select(t => new Thread(() =>
            {
                for (int i = t; i < n; i += 4)
                {
                    fs[i].SetResult(i);
                    if (i % 1000 < 4)
                    {
                        Thread.Sleep(1); // lets the reader drain and sleep
                    }
                }
            })).ToArray();
            var seen = new HashSet<Future<int>>();
            using var iterator = CsFutures.Futures.AsCompleted(fs, Waits.Long).GetEnumerator();
            foreach (var c in completers)
            {
                c.Start();
            }
            while (iterator.MoveNext())
            {
                Assert.That(seen.Add((Future<int>)iterator.Current), Is.True, "a future was yielded twice");
            }
            Assert.That(seen, Has.Count.EqualTo(n));
            foreach (var c in completers)
            {
                Assert.That(c.Join(Waits.Join), Is.True);
            }
        }
    }

    [Test]
    public void FuturesDropTheirWaitersOnceTheyToldThem()
    {
        var finished = new Future<int>();
        var cancelled = new Future<int>();
        var pending = new Future<int>();
        var untouched = Waits.Finished(0);
        using (var iterator = CsFutures.Futures.AsCompleted(new[] { untouched, finished, cancelled, pending }, Waits.Long).GetEnumerator())
        {
            Assert.That(iterator.MoveNext() && iterator.Current == untouched, Is.True);
            Assert.That(Waiters(finished) + Waiters(cancelled) + Waiters(pending), Is.EqualTo(3));
            finished.SetResult(1);
            Assert.That(iterator.MoveNext() && iterator.Current == finished, Is.True);
            Assert.That(Waiters(finished), Is.Zero);
            cancelled.Cancel();
            Assert.That(Waiters(cancelled), Is.EqualTo(1), "cancelled, not yet notified: still waited on");
            cancelled.SetRunningOrNotifyCancel();
            Assert.That(iterator.MoveNext() && iterator.Current == cancelled, Is.True);
            Assert.That(Waiters(cancelled), Is.Zero);
            Assert.That(Waiters(pending), Is.EqualTo(1));
        }
        Assert.That(Waiters(pending), Is.Zero, "removed when the iteration stopped");
        Assert.That(Waiters(untouched), Is.Zero);
    }

    [Test]
    public void AWaitAfterAnAsCompletedStillSeesTheFuture()
    {
        var f = new Future<int>();
        using (var iterator = CsFutures.Futures.AsCompleted(new[] { f }, Waits.Long).GetEnumerator())
        {
            f.SetResult(3);
            Assert.That(iterator.MoveNext(), Is.True);
        }
        var g = new Future<int>();
        var waiting = Task.Run(() => CsFutures.Futures.Wait(new Future[] { f, g }, Waits.Long));
        // The wait has installed its waiter on g (it waits on g only: f is done) before g completes.
        Assert.That(SpinWait.SpinUntil(() => Waiters(g) == 1, Waits.Long), Is.True, "the wait never waited on g");
        g.SetResult(4);
        var result = waiting.Result;
        Assert.That(result.Done, Has.Count.EqualTo(2));
    }

    [Test]
    public void TheCallerSequenceIsCopiedAtTheCall()
    {
        var a = Waits.Finished(1);
        var list = new List<Future<int>> { a };
        var iteration = CsFutures.Futures.AsCompleted(list);
        list.Add(new Future<int>()); // after the call: not part of the iteration
        Assert.That(iteration.ToList(), Is.EqualTo(new[] { a }));
    }

    [Test]
    public void ResultOfAFinishedFutureNeedsNoWait()
    {
        var f = Waits.Finished(5);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.That(f.Result(TimeSpan.Zero, cts.Token), Is.EqualTo(5), "done: the result, whatever the token");
        var failed = Waits.Failed(new IOException("x"));
        Assert.Throws<IOException>(() => failed.Result(TimeSpan.Zero));
        Assert.Throws<CancelledException>(() => Waits.CancelledAndNotified().Result(TimeSpan.Zero));
    }
}
