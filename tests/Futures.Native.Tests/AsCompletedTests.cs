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

    [Test]
    public void KeepsNoReferenceToFuturesYieldedFromOneBatch()
    {
        // Two futures finish while the iteration waits: both arrive in one batch. Once the second is
        // yielded, nothing in the iteration may still hold the first.
        var last = new Future<int>();
        var (iterator, first, second) = YieldFirstOfABatch(last);
        Assert.That(iterator.MoveNext(), Is.True);
        Assert.That(CurrentIs(iterator, second), Is.True, "the second of the batch comes next");
        Assert.That(Waits.Collected(first), Is.True, "the first future of the batch was kept alive");
        last.SetResult(3);
        Assert.That(iterator.MoveNext(), Is.True);
        Assert.That(iterator.Current, Is.SameAs(last));
        Assert.That(Waits.Collected(second), Is.True, "the second future of the batch was kept alive");
        Assert.That(iterator.MoveNext(), Is.False);
        iterator.Dispose();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (IEnumerator<Future<int>>, WeakReference, WeakReference) YieldFirstOfABatch(Future<int> last)
    {
        var a = new Future<int>();
        var b = new Future<int>();
        var iterator = CsFutures.Futures.AsCompleted(new List<Future<int>> { Waits.Finished(0), a, b, last }, Waits.Long).GetEnumerator();
        Assert.That(iterator.MoveNext(), Is.True, "the finished future first");
        a.SetResult(1);
        b.SetResult(2);
        Assert.That(iterator.MoveNext(), Is.True);
        Assert.That(iterator.Current, Is.SameAs(a), "finishing order within a batch");
        return (iterator, new WeakReference(a), new WeakReference(b));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool CurrentIs(IEnumerator<Future<int>> iterator, WeakReference weak) => ReferenceEquals(iterator.Current, weak.Target);

    /// <summary>Starts an iteration over a copy of <paramref name="futures"/>, in a frame of its own:
    /// a temporary in the test's frame would keep every future alive in a Debug build.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static IEnumerator<Future<int>> IterateCopy(List<Future<int>> futures, TimeSpan timeout) =>
        CsFutures.Futures.AsCompleted(futures.ToList(), timeout).GetEnumerator();

    [Test]
    public void FreesEachYieldedFutureLikeCPython()
    {
        // CPython's test_free_reference_yielded_future: the caller drops each yielded future.
        var futures = TenFutures();
        var iterator = IterateCopy(futures, TimeSpan.Zero);
        WeakReference? previous = null;
        Assert.Throws<TimeoutException>(() =>
        {
            while (StepAndDrop(iterator, futures, out var weak))
            {
                Assert.That(previous is null || Waits.Collected(previous), Is.True, "the previous future is still referenced");
                previous = weak;
            }
        });
        Assert.That(futures, Has.Count.EqualTo(8));
        iterator.Dispose();

        FinishFirst(futures);
        iterator = IterateCopy(futures, Waits.Long);
        previous = null;
        while (StepAndDrop(iterator, futures, out var weak))
        {
            Assert.That(previous is null || Waits.Collected(previous), Is.True, "the previous future is still referenced");
            previous = weak;
            if (futures.Count > 0)
            {
                FinishFirst(futures);
            }
        }
        Assert.That(futures, Is.Empty);
        iterator.Dispose(); // (a finished C# iterator still shows its last item as Current)
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void FinishFirst(List<Future<int>> futures) => futures[0].SetResult(futures.Count);

    /// <summary>8 pending, 1 cancelled and notified, 1 finished; built in a frame of its own.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static List<Future<int>> TenFutures()
    {
        var futures = new List<Future<int>>();
        for (int i = 0; i < 8; i++)
        {
            futures.Add(new Future<int>());
        }
        futures.Add(Waits.CancelledAndNotified());
        futures.Add(Waits.Finished(42));
        return futures;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool StepAndDrop(IEnumerator<Future<int>> iterator, List<Future<int>> futures, out WeakReference weak)
    {
        weak = null!;
        if (!iterator.MoveNext())
        {
            return false;
        }
        Assert.That(futures.Remove(iterator.Current), Is.True);
        weak = new WeakReference(iterator.Current);
        return true;
    }

    [Test]
    public void ACancelledFutureIsYieldedOnlyOnceNotified()
    {
        var cancelled = Waits.Cancelled();
        var ex = Assert.Throws<TimeoutException>(() => CsFutures.Futures.AsCompleted(new[] { cancelled }, TimeSpan.FromMilliseconds(30)).ToList());
        Assert.That(ex!.Message, Is.EqualTo("1 (of 1) futures unfinished"));

        var t = Waits.Start(() => cancelled.SetRunningOrNotifyCancel());
        Assert.That(CsFutures.Futures.AsCompleted(new[] { cancelled }, Waits.Long).ToList(), Is.EqualTo(new[] { cancelled }));
        Assert.That(t.Join(Waits.Join), Is.True);
    }

    [Test]
    public void WorkFinishingBeforeTheTimeoutIsYieldedWithoutError()
    {
        using var executor = new ThreadPoolExecutor(4);
        using var go = new ManualResetEventSlim();
        var fs = Enumerable.Range(0, 20).Select(i => executor.Submit(() => { go.Wait(Waits.Long); return i; })).ToList();
        var seen = new List<int>();
        var iteration = CsFutures.Futures.AsCompleted(fs.Concat(fs), TimeSpan.FromSeconds(20));
        go.Set(); // the work finishes while the iteration waits
        foreach (var f in iteration)
        {
            seen.Add(f.Result(TimeSpan.Zero));
        }
        Assert.That(seen, Is.EquivalentTo(Enumerable.Range(0, 20)), "each once, despite the duplicated input");
    }

    [Test]
    public void ATimeoutWhileWaitingNamesWhatIsLeft()
    {
        var a = new Future<int>();
        var b = new Future<int>();
        var c = new Future<int>();
        var seen = new List<Future<int>>();
        var ex = Assert.Throws<TimeoutException>(() =>
        {
            foreach (var f in CsFutures.Futures.AsCompleted(new[] { a, b, c }, TimeSpan.FromMilliseconds(200)))
            {
                seen.Add(f);
            }
        });
        Assert.That(ex!.Message, Is.EqualTo("3 (of 3) futures unfinished"));
        Assert.That(seen, Is.Empty);

        b.SetResult(1);
        ex = Assert.Throws<TimeoutException>(() =>
        {
            foreach (var f in CsFutures.Futures.AsCompleted(new[] { a, b, c, b }, TimeSpan.FromMilliseconds(50)))
            {
                seen.Add(f);
            }
        });
        Assert.That(ex!.Message, Is.EqualTo("2 (of 3) futures unfinished"));
        Assert.That(seen, Is.EqualTo(new[] { b }));
    }

    [Test]
    public void ACancellationTokenStopsTheIteration()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        Assert.That(() => CsFutures.Futures.AsCompleted(new[] { new Future<int>() }, Waits.Long, cts.Token).ToList(),
            Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task AsyncVariantYieldsEachOnceAndStopsOnItsToken()
    {
        var a = Waits.Finished(1);
        var b = Waits.CancelledAndNotified();
        var c = new Future<int>();
        var seen = new List<Future<int>>();
        await foreach (var f in CsFutures.Futures.AsCompletedAsync(new[] { a, b, a, c, b, c }, Waits.Long))
        {
            seen.Add(f);
            if (seen.Count == 2)
            {
                _ = Task.Run(() => c.SetException(new IOException()));
            }
        }
        Assert.That(seen, Has.Count.EqualTo(3));
        Assert.That(seen.Take(2), Is.EquivalentTo(new[] { a, b }), "the done ones first");
        Assert.That(seen[2], Is.SameAs(c));

        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        Assert.That(async () =>
        {
            await foreach (var f in CsFutures.Futures.AsCompletedAsync(new[] { new Future<int>() }, Waits.Long).WithCancellation(cts.Token))
            {
            }
        }, Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task AsyncVariantKeepsNoReferenceToYieldedFutures()
    {
        var pending = new Future<int>();
        var (iterator, weak) = await StartAsyncIteration(pending);
        var t = Task.Run(() => pending.SetResult(2));
        Assert.That(await iterator.MoveNextAsync().AsTask().WaitAsync(Waits.Long), Is.True);
        Assert.That(iterator.Current, Is.SameAs(pending));
        Assert.That(Waits.Collected(weak), Is.True, "a yielded future is kept by the async iteration");
        Assert.That(await iterator.MoveNextAsync(), Is.False);
        await iterator.DisposeAsync();
        await t;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<(IAsyncEnumerator<Future<int>>, WeakReference)> StartAsyncIteration(Future<int> pending)
    {
        var iterator = CsFutures.Futures.AsCompletedAsync(new List<Future<int>> { Waits.Finished(1), pending }).GetAsyncEnumerator();
        Assert.That(await iterator.MoveNextAsync(), Is.True);
        return (iterator, new WeakReference(iterator.Current));
    }
}
