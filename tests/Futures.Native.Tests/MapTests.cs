namespace Futures.Native.Tests;

public class MapTests
{
    [Test]
    public void ResultsComeInInputOrder()
    {
        using var executor = new ThreadPoolExecutor(4);
        var results = executor.Map(x => { Thread.Sleep((10 - x) % 3); return x * x; }, Enumerable.Range(0, 10)).ToList();
        Assert.That(results, Is.EqualTo(Enumerable.Range(0, 10).Select(x => x * x)));
    }

    [Test]
    public void TwoSequencesAreZipped()
    {
        using var executor = new ThreadPoolExecutor(2);
        Assert.That(executor.Map((int a, string b) => b + a, new[] { 1, 2, 3 }, new[] { "a", "b" }).ToList(),
            Is.EqualTo(new[] { "a1", "b2" }));
    }

    [Test]
    public void AllWorkIsSubmittedBeforeIteration()
    {
        var ran = new CountdownEvent(10);
        using var executor = new ThreadPoolExecutor(3);
        var results = executor.Map(x => { ran.Signal(); return x; }, Enumerable.Range(0, 10));
        Assert.That(ran.Wait(Waits.Long), Is.True, "map submitted everything without being iterated");
        GC.KeepAlive(results);
    }

    [Test]
    public void AnExceptionIsRethrownAtItsPosition()
    {
        using var executor = new ThreadPoolExecutor(2);
        var error = new IOException("item 2");
        using var results = executor.Map(x => x == 2 ? throw error : x, Enumerable.Range(0, 4)).GetEnumerator();
        Assert.That(results.MoveNext() && results.Current == 0, Is.True);
        Assert.That(results.MoveNext() && results.Current == 1, Is.True);
        Assert.That(Assert.Throws<IOException>(() => results.MoveNext()), Is.SameAs(error));
    }

    [Test]
    public void TheDeadlineIsFixedAtTheCallAndStoppingEarlyCancelsTheRest()
    {
        using var release = new ManualResetEventSlim();
        using var executor = new ThreadPoolExecutor(1);
        var blocker = executor.Submit(() => release.Wait(Waits.Long));
        var ran = 0;
        var results = executor.Map(x => Interlocked.Increment(ref ran), Enumerable.Range(0, 5), timeout: TimeSpan.FromMilliseconds(50));
        Thread.Sleep(80); // the deadline passes before the iteration starts
        using (var iterator = results.GetEnumerator())
        {
            Assert.Throws<TimeoutException>(() => iterator.MoveNext());
        }
        release.Set();
        blocker.Result(Waits.Long);
        executor.Shutdown(wait: true);
        Assert.That(ran, Is.EqualTo(0), "the futures not taken were cancelled");
    }

    [Test]
    public void DisposingTheIterationCancelsPendingWork()
    {
        using var release = new ManualResetEventSlim();
        using var disposed = new ManualResetEventSlim();
        using var executor = new ThreadPoolExecutor(1);
        var ran = new List<int>();
        var results = executor.Map(x =>
        {
            if (x == 1)
            {
                disposed.Wait(Waits.Long); // keeps items 2-4 queued behind it until the iteration stopped
            }
            lock (ran)
            {
                ran.Add(x);
            }
            return x;
        }, Enumerable.Range(0, 5));
        using (var iterator = results.GetEnumerator())
        {
            Assert.That(iterator.MoveNext(), Is.True);
        }
        disposed.Set();
        executor.Shutdown(wait: true);
        // Item 1 may have started (then it finishes) or not (then it was cancelled); 2-4 never run.
        Assert.That(ran, Is.EqualTo(new[] { 0, 1 }).Or.EqualTo(new[] { 0 }), "work not started when the iteration stopped was cancelled");
    }

    [Test]
    public void BuffersizeBoundsTheWorkInFlight()
    {
        using var executor = new ThreadPoolExecutor(4);
        int submitted = 0;
        IEnumerable<int> Source()
        {
            for (int i = 0; i < 20; i++)
            {
                Interlocked.Increment(ref submitted);
                yield return i;
            }
        }
        var taken = 0;
        var maxAhead = 0;
        foreach (var r in executor.Map(x => x, Source(), buffersize: 3))
        {
            taken++;
            maxAhead = Math.Max(maxAhead, Volatile.Read(ref submitted) - taken);
            Assert.That(r, Is.EqualTo(taken - 1));
        }
        Assert.That(taken, Is.EqualTo(20));
        Assert.That(maxAhead, Is.LessThanOrEqualTo(3));
    }

    [Test]
    public void BuffersizeMustBePositive()
    {
        using var executor = new ThreadPoolExecutor(1);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => executor.Map(x => x, new[] { 1 }, buffersize: 0));
        Assert.That(ex!.Message, Does.Contain("buffersize must be None or > 0"));
    }

    [Test]
    public void AFailureCancelsTheFuturesNotYetTaken()
    {
        using var sawFailure = new ManualResetEventSlim();
        using var executor = new ThreadPoolExecutor(1);
        var ran = new List<int>();
        var error = new IOException("item 0");
        using var results = executor.Map(x =>
        {
            if (x == 0)
            {
                throw error;
            }
            if (x == 1)
            {
                sawFailure.Wait(Waits.Long); // keeps 2-4 queued until the failure reached the caller
            }
            lock (ran)
            {
                ran.Add(x);
            }
            return x;
        }, Enumerable.Range(0, 5)).GetEnumerator();
        Assert.That(Assert.Throws<IOException>(() => results.MoveNext()), Is.SameAs(error));
        sawFailure.Set();
        executor.Shutdown(wait: true);
        // Item 1 may have started before the failure was seen (then it ran); 2-4 never run.
        Assert.That(ran, Is.EqualTo(new[] { 1 }).Or.Empty, "work not started when the iteration failed was cancelled");
        Assert.That(results.MoveNext(), Is.False, "a failed iteration is over");
    }

    [Test]
    public void TheTimeoutCountsFromTheCallNotFromEachItem()
    {
        using var executor = new ThreadPoolExecutor(1);
        using var release = new ManualResetEventSlim();
        // Each item alone is quicker than the timeout; together they are not.
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var results = executor.Map(x => { release.Wait(TimeSpan.FromMilliseconds(120)); return x; }, Enumerable.Range(0, 5),
            timeout: TimeSpan.FromMilliseconds(300));
        var taken = new List<int>();
        Assert.Throws<TimeoutException>(() =>
        {
            foreach (var r in results)
            {
                taken.Add(r);
            }
        });
        Assert.That(taken.Count, Is.InRange(1, 3), "some items came before the shared deadline");
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)));
        release.Set();
    }

    [Test]
    public void WithBuffersizeOnlyThatManyAreSubmittedBeforeIteration()
    {
        using var executor = new ThreadPoolExecutor(4);
        int pulled = 0;
        var results = executor.Map(x => x * 10, Counting(100), buffersize: 5);
        Assert.That(Volatile.Read(ref pulled), Is.EqualTo(5), "eager submission of exactly buffersize items");
        using (var iterator = results.GetEnumerator())
        {
            Assert.That(iterator.MoveNext(), Is.True);
            Assert.That(iterator.Current, Is.EqualTo(0));
            Assert.That(Volatile.Read(ref pulled), Is.EqualTo(6), "one more submitted per result taken");
        }
        Assert.That(Volatile.Read(ref pulled), Is.EqualTo(6), "nothing submitted after the iteration stopped");

        IEnumerable<int> Counting(int n)
        {
            for (int i = 0; i < n; i++)
            {
                Interlocked.Increment(ref pulled);
                yield return i;
            }
        }
    }

    [Test]
    public void BuffersizeBoundsConcurrentlySubmittedUnconsumedWork()
    {
        using var executor = new ThreadPoolExecutor(8);
        const int buffersize = 4;
        int submitted = 0, consumed = 0, maxInFlight = 0;
        int started = 0;
        IEnumerable<int> Source()
        {
            for (int i = 0; i < 200; i++)
            {
                int inFlight = Interlocked.Increment(ref submitted) - Volatile.Read(ref consumed);
                InterlockedMax(ref maxInFlight, inFlight);
                yield return i;
            }
        }
        var results = new List<int>();
        foreach (var r in executor.Map(x => { Interlocked.Increment(ref started); return x; }, Source(), buffersize: buffersize))
        {
            results.Add(r);
            Interlocked.Increment(ref consumed);
        }
        Assert.That(results, Is.EqualTo(Enumerable.Range(0, 200)));
        // Taking result k submits one more first: buffersize unconsumed plus the one being taken.
        Assert.That(maxInFlight, Is.EqualTo(buffersize + 1));
        Assert.That(started, Is.EqualTo(200));

        static void InterlockedMax(ref int target, int value)
        {
            int seen = Volatile.Read(ref target);
            while (value > seen)
            {
                int prior = Interlocked.CompareExchange(ref target, value, seen);
                if (prior == seen)
                {
                    break;
                }
                seen = prior;
            }
        }
    }

    [Test]
    public void DisposingABufferedIterationCancelsItsWorkAndDisposesTheSource()
    {
        using var gate = new ManualResetEventSlim();
        using var executor = new ThreadPoolExecutor(1);
        bool sourceDisposed = false;
        int pulled = 0;
        var ran = new List<int>();
        IEnumerable<int> Source()
        {
            try
            {
                for (int i = 0; i < 1000; i++)
                {
                    pulled++;
                    yield return i;
                }
            }
            finally
            {
                sourceDisposed = true;
            }
        }
        using (var iterator = executor.Map(x =>
        {
            if (x > 0)
            {
                gate.Wait(Waits.Long); // item 1 holds the only worker until the iteration stopped
            }
            lock (ran)
            {
                ran.Add(x);
            }
            return x;
        }, Source(), buffersize: 3).GetEnumerator())
        {
            Assert.That(iterator.MoveNext(), Is.True);
            Assert.That(iterator.Current, Is.EqualTo(0));
        }
        Assert.That(sourceDisposed, Is.True, "the source is disposed when the iteration stops");
        Assert.That(pulled, Is.EqualTo(4), "buffersize items, plus one when the first result was taken");
        gate.Set();
        executor.Shutdown(wait: true);
        Assert.That(ran, Is.EqualTo(new[] { 0, 1 }).Or.EqualTo(new[] { 0 }), "items 2 and 3 were cancelled");
    }

    [Test]
    public void MapAfterShutdownFails()
    {
        var executor = new ThreadPoolExecutor(1);
        executor.Shutdown();
        var ex = Assert.Throws<InvalidOperationException>(() => executor.Map(x => x, new[] { 1, 2 }));
        Assert.That(ex!.Message, Is.EqualTo("cannot schedule new futures after shutdown"));
    }
}
