using System.Collections;
using System.Reflection;

namespace Futures.Native.Tests;

/// <summary>Map over a collection once every worker is started: its items are submitted in batches
/// (<see cref="Executor.MapBatchSize"/>, one lock round trip each). Observable behaviour must be that
/// of one submit per item.</summary>
public class MapBatchTests
{
    /// <summary>An executor whose <paramref name="workers"/> threads are all started, each held by a
    /// blocker until <paramref name="release"/> is set.</summary>
    private static ThreadPoolExecutor Started(int workers, ManualResetEventSlim release, out Future<bool>[] blockers)
    {
        var executor = new ThreadPoolExecutor(workers);
        using var allIn = new CountdownEvent(workers);
        blockers = Enumerable.Range(0, workers)
            .Select(_ => executor.Submit(() => { allIn.Signal(); return release.Wait(Waits.Long); }))
            .ToArray();
        Assert.That(allIn.Wait(Waits.Long), Is.True);
        Assert.That(executor.Threads, Has.Count.EqualTo(workers));
        return executor;
    }

    [Test]
    public void ItemsRunInInputOrderAndResultsComeInInputOrder()
    {
        using var release = new ManualResetEventSlim();
        using var executor = Started(1, release, out var blockers);
        var ran = new List<int>();
        int n = Executor.MapBatchSize * 3 + 5;
        var results = executor.Map(x => { lock (ran) { ran.Add(x); } return x * 2; }, Enumerable.Range(0, n).ToArray());
        Assert.That(executor.QueuedCount, Is.EqualTo(n), "everything queued before the iteration, behind the blocker");
        release.Set();
        Assert.That(results.ToList(), Is.EqualTo(Enumerable.Range(0, n).Select(x => x * 2)));
        Assert.That(ran, Is.EqualTo(Enumerable.Range(0, n)), "one worker runs them in the order given");
        Assert.That(blockers.All(b => b.Result()), Is.True);
    }

    [Test]
    public void StoppingEarlyCancelsEveryBatchNotTaken()
    {
        using var release = new ManualResetEventSlim();
        using var disposed = new ManualResetEventSlim();
        var executor = Started(1, release, out _);
        var ran = new List<int>();
        int n = Executor.MapBatchSize * 4;
        var results = executor.Map(x =>
        {
            if (x == 1)
            {
                disposed.Wait(Waits.Long); // keeps the rest queued until the iteration stopped
            }
            lock (ran)
            {
                ran.Add(x);
            }
            return x;
        }, new List<int>(Enumerable.Range(0, n)));
        release.Set();
        using (var iterator = results.GetEnumerator())
        {
            Assert.That(iterator.MoveNext(), Is.True);
        }
        disposed.Set();
        executor.Shutdown(wait: true);
        Assert.That(ran, Is.EqualTo(new[] { 0, 1 }).Or.EqualTo(new[] { 0 }), "the futures not taken were cancelled");
    }

    [Test]
    public void AFailureCancelsTheBatchesNotTaken()
    {
        using var release = new ManualResetEventSlim();
        using var sawFailure = new ManualResetEventSlim();
        var executor = Started(1, release, out _);
        var ran = new List<int>();
        var error = new IOException("item 0");
        int n = Executor.MapBatchSize * 3;
        using var results = executor.Map(x =>
        {
            if (x == 0)
            {
                throw error;
            }
            if (x == 1)
            {
                sawFailure.Wait(Waits.Long);
            }
            lock (ran)
            {
                ran.Add(x);
            }
            return x;
        }, Enumerable.Range(0, n).ToArray()).GetEnumerator();
        release.Set();
        Assert.That(Assert.Throws<IOException>(() => results.MoveNext()), Is.SameAs(error));
        sawFailure.Set();
        executor.Shutdown(wait: true);
        Assert.That(ran, Is.EqualTo(new[] { 1 }).Or.Empty, "work not started when the failure was seen was cancelled");
    }

    [Test]
    public void BuffersizeOverACollectionSubmitsOnlyThatMany()
    {
        using var release = new ManualResetEventSlim();
        using var executor = Started(1, release, out _);
        var results = executor.Map(x => x, Enumerable.Range(0, 1000).ToArray(), buffersize: 3);
        Assert.That(executor.QueuedCount, Is.EqualTo(3));
        release.Set();
        Assert.That(results.Sum(), Is.EqualTo(Enumerable.Range(0, 1000).Sum()));
    }

    [Test]
    public void AShutPoolTakesNoneOfABatch()
    {
        using var release = new ManualResetEventSlim();
        var executor = Started(2, release, out _);
        executor.Shutdown(wait: false);
        var ran = 0;
        var ex = Assert.Throws<InvalidOperationException>(() => executor.Map(x => Interlocked.Increment(ref ran), Enumerable.Range(0, 500).ToArray()));
        Assert.That(ex!.Message, Is.EqualTo("cannot schedule new futures after shutdown"));
        release.Set();
        Assert.That(executor.Join(Waits.Long), Is.True);
        Assert.That(ran, Is.Zero);
    }

    [Test]
    public void AShutdownDuringMapKeepsWholeBatchesAndRunsThem()
    {
        for (int round = 0; round < 20; round++)
        {
            using var release = new ManualResetEventSlim();
            var executor = Started(2, release, out _);
            release.Set();
            var ran = 0;
            var items = Enumerable.Range(0, 200_000).ToArray();
            using var mapping = new ManualResetEventSlim();
            Exception? failure = null;
            var mapper = new Thread(() =>
            {
                try
                {
                    mapping.Set();
                    executor.Map(x => Interlocked.Increment(ref ran), items);
                }
                catch (Exception e)
                {
                    failure = e;
                }
            });
            mapper.Start();
            mapping.Wait(Waits.Long);
            executor.Shutdown(wait: false);
            Assert.That(mapper.Join(Waits.Long), Is.True);
            Assert.That(executor.Join(Waits.Long), Is.True, "queued work is drained at shutdown(wait)");
            if (failure is not null)
            {
                Assert.That(failure, Is.TypeOf<InvalidOperationException>());
                Assert.That(ran % Executor.MapBatchSize, Is.Zero, $"a batch was cut: {ran} items ran");
            }
            else
            {
                Assert.That(ran, Is.EqualTo(items.Length));
            }
        }
    }

    [Test]
    public void AnEnumerationFailureSubmitsTheItemsReadBeforeIt()
    {
        using var release = new ManualResetEventSlim();
        var executor = Started(2, release, out _);
        release.Set();
        var ran = 0;
        var source = new FailingCollection(Executor.MapBatchSize + 10);
        var ex = Assert.Throws<IOException>(() => executor.Map(x => Interlocked.Increment(ref ran), source));
        Assert.That(ex!.Message, Is.EqualTo("enumeration failed"));
        executor.Shutdown(wait: true);
        Assert.That(ran, Is.EqualTo(Executor.MapBatchSize + 10), "every item read before the failure was submitted and ran");
        Assert.That(source.Disposed, Is.True);
    }

    [Test]
    public void AGeneratorThatWaitsForTheWorkIsSubmittedItemByItem()
    {
        using var release = new ManualResetEventSlim();
        using var executor = Started(2, release, out _);
        release.Set();
        var done = Enumerable.Range(0, 10).Select(_ => new ManualResetEventSlim()).ToArray();
        IEnumerable<int> Source()
        {
            for (int i = 0; i < 10; i++)
            {
                if (i > 0)
                {
                    // Waits for the work on the previous item: only possible if it was submitted.
                    Assert.That(done[i - 1].Wait(Waits.Long), Is.True, $"item {i - 1} was not submitted before {i} was read");
                }
                yield return i;
            }
        }
        var results = executor.Map(x => { done[x].Set(); return x; }, Source()).ToList();
        Assert.That(results, Is.EqualTo(Enumerable.Range(0, 10)));
        foreach (var d in done)
        {
            d.Dispose();
        }
    }

    [Test]
    public void WithTheBacklogOnItemsGoOneByOne()
    {
        using var executor = new ThreadPoolExecutor(2, options: new ThreadPoolExecutorOptions { MaxBacklog = 8 });
        executor.Submit(() => 0).Result(Waits.Long);
        executor.Submit(() => 0).Result(Waits.Long);
        var results = executor.Map(x => x + 1, Enumerable.Range(0, 2000).ToArray()).ToList();
        Assert.That(results, Is.EqualTo(Enumerable.Range(1, 2000)));
    }

    [Test]
    public void AMapItemDropsItsFunctionAndArgumentOnceRun()
    {
        var item = new MapFuture<string, string>(s => s + "!", "x");
        item.Run();
        Assert.That(item.Result(), Is.EqualTo("x!"));
        foreach (var name in new[] { "_fn", "_arg" })
        {
            var field = typeof(MapFuture<string, string>).GetField(name, BindingFlags.Instance | BindingFlags.NonPublic)!;
            Assert.That(field.GetValue(item), Is.Null, name);
        }
    }

    /// <summary>A collection whose enumeration throws after <c>count</c> items.</summary>
    private sealed class FailingCollection(int count) : IReadOnlyCollection<int>
    {
        public bool Disposed { get; private set; }

        public int Count => count + 1;

        public IEnumerator<int> GetEnumerator()
        {
            try
            {
                for (int i = 0; i < count; i++)
                {
                    yield return i;
                }
                throw new IOException("enumeration failed");
            }
            finally
            {
                Disposed = true;
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
