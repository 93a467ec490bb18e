using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace Futures.Native.Tests;

public class ThreadPoolExecutorTests
{
    [Test]
    public void DefaultMaxWorkersIsCPythons()
    {
        using var executor = new ThreadPoolExecutor();
        Assert.That(executor.MaxWorkers, Is.EqualTo(Math.Min(32, Environment.ProcessorCount + 4)));
    }

    [TestCase(0)]
    [TestCase(-1)]
    public void MaxWorkersMustBePositive(int workers)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new ThreadPoolExecutor(workers));
        Assert.That(ex!.Message, Does.Contain("max_workers must be greater than 0"));
    }

    [Test]
    public void ThreadsAreNamedPrefixIndex()
    {
        using var executor = new ThreadPoolExecutor(2, threadNamePrefix: "Special");
        var names = executor.Map(_ => { Thread.Sleep(5); return Thread.CurrentThread.Name; }, Enumerable.Range(0, 10)).ToHashSet();
        Assert.That(names, Is.SubsetOf(new[] { "Special_0", "Special_1" }));
        Assert.That(executor.Threads.Select(t => t.Name), Is.SubsetOf(new[] { "Special_0", "Special_1" }));
    }

    [Test]
    public void DefaultPrefixCountsExecutors()
    {
        using var a = new ThreadPoolExecutor(1);
        using var b = new ThreadPoolExecutor(1);
        var na = a.Submit(() => Thread.CurrentThread.Name!).Result(Waits.Long);
        var nb = b.Submit(() => Thread.CurrentThread.Name!).Result(Waits.Long);
        Assert.That(na, Does.Match(@"^ThreadPoolExecutor-\d+_0$"));
        Assert.That(nb, Does.Match(@"^ThreadPoolExecutor-\d+_0$"));
        Assert.That(na, Is.Not.EqualTo(nb));
    }

    [Test]
    public void ThreadsStartLazilyAndIdleOnesAreReused()
    {
        using var executor = new ThreadPoolExecutor();
        Assert.That(executor.Threads, Is.Empty);
        for (int i = 0; i < 5; i++)
        {
            executor.Submit(() => i * 2).Result(Waits.Long);
        }
        Assert.That(executor.Threads, Has.Count.EqualTo(1));
    }

    [Test]
    public void SaturationStartsExactlyMaxWorkers()
    {
        using var gate = new SemaphoreSlim(0);
        using var executor = new ThreadPoolExecutor(4);
        var fs = Enumerable.Range(0, 15 * 4).Select(_ => executor.Submit(() => gate.Wait(Waits.Long))).ToList();
        Assert.That(executor.Threads, Has.Count.EqualTo(4));
        gate.Release(fs.Count);
        Assert.That(fs.All(f => f.Result(Waits.Long)), Is.True);
    }

    [Test]
    public void AFailingInitializerBreaksThePool()
    {
        var logger = new CapturingLogger();
        using var gate = new ManualResetEventSlim();
        var executor = new ThreadPoolExecutor(1, initializer: () =>
        {
            gate.Wait(Waits.Long);
            throw new InvalidOperationException("init failed");
        }, options: new ThreadPoolExecutorOptions { Logger = logger });
        var pending = Enumerable.Range(0, 3).Select(i => executor.Submit(() => i)).ToList();
        gate.Set();
        const string message = "A thread initializer failed, the thread pool is not usable anymore";
        foreach (var f in pending)
        {
            var ex = Assert.Throws<BrokenThreadPoolException>(() => f.Result(Waits.Long));
            Assert.That(ex!.Message, Is.EqualTo(message));
        }
        Assert.That(executor.Broken, Is.EqualTo(message));
        Assert.That(Assert.Throws<BrokenThreadPoolException>(() => executor.Submit(() => 1))!.Message, Is.EqualTo(message));
        Assert.That(logger.Entries.Any(e => e.Level == LogLevel.Critical && e.Message == "Exception in initializer:"
            && e.Exception is InvalidOperationException), Is.True);
        executor.Shutdown();
    }

    [Test]
    public void TheInitializerRunsOncePerThreadBeforeWork()
    {
        var initialized = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
        using (var executor = new ThreadPoolExecutor(2, initializer: () => initialized.AddOrUpdate(Environment.CurrentManagedThreadId, 1, (_, n) => n + 1)))
        {
            var ids = executor.Map(_ => { Thread.Sleep(2); return initialized.ContainsKey(Environment.CurrentManagedThreadId); }, Enumerable.Range(0, 20)).ToList();
            Assert.That(ids, Is.All.True);
        }
        Assert.That(initialized.Values, Is.All.EqualTo(1));
    }

    [Test]
    public void SubmitAfterShutdownFails()
    {
        var executor = new ThreadPoolExecutor(1);
        executor.Shutdown();
        var ex = Assert.Throws<InvalidOperationException>(() => executor.Submit(() => 1));
        Assert.That(ex!.Message, Is.EqualTo("cannot schedule new futures after shutdown"));
        Assert.That(executor.IsShutdown, Is.True);
        Assert.DoesNotThrow(() => executor.Shutdown(), "shutdown twice is allowed");
    }

    [Test]
    public void ShutdownWaitsForQueuedWork()
    {
        var executor = new ThreadPoolExecutor(2);
        var fs = Enumerable.Range(0, 50).Select(i => executor.Submit(() => { Thread.Sleep(1); return i; })).ToList();
        executor.Shutdown(wait: true);
        Assert.That(fs.All(f => f.Done()), Is.True);
        Assert.That(fs.Select(f => f.Result()), Is.EqualTo(Enumerable.Range(0, 50)));
        Assert.That(executor.Threads.All(t => !t.IsAlive), Is.True);
    }

    [Test]
    public void ShutdownWithCancelFuturesCancelsQueuedWork()
    {
        using var gate = new ManualResetEventSlim();
        var executor = new ThreadPoolExecutor(1);
        var first = executor.Submit(() => gate.Wait(Waits.Long));
        var started = SpinWait.SpinUntil(() => first.Running(), Waits.Long);
        var queued = Enumerable.Range(0, 10).Select(i => executor.Submit(() => i)).ToList();
        executor.Shutdown(wait: false, cancelFutures: true);
        Assert.That(started, Is.True);
        Assert.That(queued.All(f => f.Cancelled()), Is.True);
        var (done, _) = CsFutures.Futures.Wait(queued, Waits.Long);
        Assert.That(done, Has.Count.EqualTo(10), "cancelled futures are notified, so wait() returns");
        gate.Set();
        executor.Shutdown(wait: true);
        Assert.That(first.Result(), Is.True);
    }

    [Test]
    public async Task DisposeAsyncWaitsForTheWorkers()
    {
        Future<int> f;
        ThreadPoolExecutor executor;
        await using (executor = new ThreadPoolExecutor(2))
        {
            f = executor.Submit(() => { Thread.Sleep(20); return 5; });
        }
        Assert.That(f.Done(), Is.True);
        Assert.That(executor.Threads.All(t => !t.IsAlive), Is.True);
    }

    [Test]
    public void ADroppedExecutorsWorkersExit()
    {
        var threads = StartAndDrop();
        for (int i = 0; i < 10 && threads.Any(t => t.IsAlive); i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            foreach (var t in threads)
            {
                t.Join(TimeSpan.FromMilliseconds(200));
            }
        }
        Assert.That(threads.All(t => !t.IsAlive), Is.True);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Thread[] StartAndDrop()
    {
        var executor = new ThreadPoolExecutor(3);
        executor.Map(x => x, Enumerable.Range(0, 10)).ToList();
        return executor.Threads.ToArray();
    }
}
