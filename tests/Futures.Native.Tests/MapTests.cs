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
}
