namespace Futures.Native.Tests;

public class StressTests
{
    [Test]
    public void AMillionShortTasksNoneLostOrDuplicated()
    {
        const int n = 1_000_000;
        var runs = new int[n];
        using var executor = new ThreadPoolExecutor(4);
        var futures = new Future<int>[n];
        var submitters = Enumerable.Range(0, 2).Select(part => new Thread(() =>
        {
            for (int i = part; i < n; i += 2)
            {
                int index = i;
                futures[index] = executor.Submit(() =>
                {
                    Interlocked.Increment(ref runs[index]);
                    return index;
                });
            }
        })).ToList();
        submitters.ForEach(t => t.Start());
        submitters.ForEach(t => t.Join());
        for (int i = 0; i < n; i++)
        {
            Assert.That(futures[i].Result(Waits.Long), Is.EqualTo(i));
        }
        Assert.That(runs.All(r => r == 1), Is.True, "every task ran exactly once");
    }

    [Test]
    public void ManyThreadsSubmitCancelAndWaitAtOnce()
    {
        using var executor = new ThreadPoolExecutor(4);
        int completed = 0, cancelled = 0;
        var workers = Enumerable.Range(0, 8).Select(w => new Thread(() =>
        {
            var rng = new Random(w);
            for (int round = 0; round < 200; round++)
            {
                var fs = Enumerable.Range(0, 10).Select(i => executor.Submit(() => i)).ToList();
                foreach (var f in fs.Where(_ => rng.Next(3) == 0))
                {
                    f.Cancel();
                }
                var (done, notDone) = CsFutures.Futures.Wait(fs, Waits.Long);
                Assert.That(notDone, Is.Empty);
                foreach (var f in fs)
                {
                    if (f.Cancelled())
                    {
                        Interlocked.Increment(ref cancelled);
                    }
                    else
                    {
                        Assert.That(f.Result(TimeSpan.Zero), Is.InRange(0, 9));
                        Interlocked.Increment(ref completed);
                    }
                }
                Assert.That(CsFutures.Futures.AsCompleted(fs, Waits.Long).Count(), Is.EqualTo(10));
            }
        })).ToList();
        workers.ForEach(t => t.Start());
        Assert.That(workers.All(t => t.Join(TimeSpan.FromSeconds(60))), Is.True);
        Assert.That(completed + cancelled, Is.EqualTo(8 * 200 * 10));
    }

    [Test]
    public void ShutdownRacingSubmitsLosesNothing()
    {
        for (int round = 0; round < 50; round++)
        {
            var executor = new ThreadPoolExecutor(2);
            if (round % 2 == 0)
            {
                Waits.StartEveryWorker(executor, 2); // submits then queue without the pool's lock
            }
            var accepted = new System.Collections.Concurrent.ConcurrentBag<Future<int>>();
            int rejected = 0;
            using var start = new Barrier(4);
            var submitters = Enumerable.Range(0, 3).Select(_ => new Thread(() =>
            {
                start.SignalAndWait();
                for (int i = 0; i < 200; i++)
                {
                    try
                    {
                        accepted.Add(executor.Submit(() => i));
                    }
                    catch (InvalidOperationException)
                    {
                        Interlocked.Increment(ref rejected);
                    }
                }
            })).ToList();
            submitters.ForEach(t => t.Start());
            start.SignalAndWait();
            executor.Shutdown(wait: false);
            submitters.ForEach(t => t.Join());
            executor.Shutdown(wait: true);
            Assert.That(accepted.Count + rejected, Is.EqualTo(600));
            Assert.That(accepted.All(f => f.Done() && !f.Cancelled()), Is.True, "every accepted future ran");
        }
    }

    [Test]
    public void ShutdownWithCancelRacingSubmitsLeavesEveryFutureDone()
    {
        for (int round = 0; round < 30; round++)
        {
            var executor = new ThreadPoolExecutor(2);
            if (round % 2 == 0)
            {
                Waits.StartEveryWorker(executor, 2);
            }
            var accepted = new System.Collections.Concurrent.ConcurrentBag<Future<int>>();
            int rejected = 0;
            using var start = new Barrier(4);
            var submitters = Enumerable.Range(0, 3).Select(_ => Waits.Start(() =>
            {
                start.SignalAndWait();
                for (int i = 0; i < 200; i++)
                {
                    try
                    {
                        accepted.Add(executor.Submit(() => i));
                    }
                    catch (InvalidOperationException ex) when (ex.Message == "cannot schedule new futures after shutdown")
                    {
                        Interlocked.Increment(ref rejected);
                    }
                }
            })).ToList();
            start.SignalAndWait();
            executor.Shutdown(wait: false, cancelFutures: true);
            Assert.That(submitters.All(t => t.Join(Waits.Join)), Is.True);
            Assert.That(executor.Join(Waits.Long), Is.True, "the workers exit");
            Assert.That(accepted.Count + rejected, Is.EqualTo(600));
            var (done, notDone) = CsFutures.Futures.Wait(accepted, Waits.Long);
            Assert.That(notDone, Is.Empty, "every accepted future ran or was cancelled and notified");
            Assert.That(accepted.All(f => f.State is FutureState.Finished or FutureState.CancelledAndNotified), Is.True);
        }
    }
}
