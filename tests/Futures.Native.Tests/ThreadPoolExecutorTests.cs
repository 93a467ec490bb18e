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
    public void AnExecutorWhoseConstructorThrewIsFinalizedQuietly()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ThreadPoolExecutor(0));
        // The half-built object's finalizer runs; an exception there would end the test process.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var executor = new ThreadPoolExecutor(1);
        Assert.That(executor.Submit(() => 1).Result(Waits.Long), Is.EqualTo(1));
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
        int ka = int.Parse(na.Split('-', '_')[1]);
        int kb = int.Parse(nb.Split('-', '_')[1]);
        Assert.That(kb, Is.EqualTo(ka + 1), "k counts executors created without a prefix");
        Assert.That(a.ThreadNamePrefix, Is.EqualTo($"ThreadPoolExecutor-{ka}"));
    }

    [Test]
    public void ThreadsStartLazilyAndIdleOnesAreReused()
    {
        using var executor = new ThreadPoolExecutor();
        Assert.That(executor.Threads, Is.Empty);
        for (int i = 0; i < 3; i++)
        {
            Assert.That(executor.Submit(() => 21 * 2).Result(Waits.Long), Is.EqualTo(42));
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
    private static WorkerThread[] StartAndDrop()
    {
        var executor = new ThreadPoolExecutor(3);
        executor.Map(x => x, Enumerable.Range(0, 10)).ToList();
        return executor.Threads.ToArray();
    }

    [Test]
    public void ThreadNamesCountUpToMaxWorkers()
    {
        using var gate = new ManualResetEventSlim();
        using var executor = new ThreadPoolExecutor(3, threadNamePrefix: "Pool");
        var fs = Enumerable.Range(0, 3).Select(_ => executor.Submit(() => { gate.Wait(Waits.Long); return Thread.CurrentThread.Name; })).ToList();
        gate.Set();
        Assert.That(fs.Select(f => f.Result(Waits.Long)), Is.EquivalentTo(new[] { "Pool_0", "Pool_1", "Pool_2" }));
        Assert.That(executor.Threads.Select(t => t.Name), Is.EquivalentTo(new[] { "Pool_0", "Pool_1", "Pool_2" }));
        Assert.That(executor.Threads.All(t => t.IsBackground), Is.True);
    }

    [Test]
    public void ShutdownWithWaitWaitsForRunningWork()
    {
        using var started = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var executor = new ThreadPoolExecutor(2);
        var running = executor.Submit(() => { started.Set(); release.Wait(Waits.Long); return 1; });
        Assert.That(started.Wait(Waits.Long), Is.True);
        using var shutdownReturned = new ManualResetEventSlim();
        var shutter = Waits.Start(() => { executor.Shutdown(wait: true); shutdownReturned.Set(); });
        Assert.That(shutdownReturned.Wait(TimeSpan.FromMilliseconds(200)), Is.False, "shutdown(wait) returned while work ran");
        Assert.That(Assert.Throws<InvalidOperationException>(() => executor.Submit(() => 2))!.Message,
            Is.EqualTo("cannot schedule new futures after shutdown"), "already shut down while waiting");
        release.Set();
        Assert.That(shutter.Join(Waits.Join), Is.True);
        Assert.That(running.Done() && running.Result() == 1, Is.True, "the work was done when shutdown returned");
        Assert.That(executor.Threads.All(t => !t.IsAlive), Is.True);
    }

    [Test]
    public void ShutdownWithoutWaitReturnsAndTheWorkStillRuns()
    {
        using var release = new ManualResetEventSlim();
        var executor = new ThreadPoolExecutor(1);
        var first = executor.Submit(() => { release.Wait(Waits.Long); return 1; });
        var queued = executor.Submit(() => 2);
        executor.Shutdown(wait: false);
        Assert.That(first.Done(), Is.False);
        release.Set();
        Assert.That(queued.Result(Waits.Long), Is.EqualTo(2), "queued work runs after shutdown(wait: false)");
        Assert.That(executor.Join(Waits.Long), Is.True);
    }

    [Test]
    public void DisposeIsShutdownWithWait()
    {
        using var release = new ManualResetEventSlim();
        Future<int> f;
        var executor = new ThreadPoolExecutor(2);
        using (executor)
        {
            f = executor.Submit(() => { release.Wait(Waits.Long); return 3; });
            release.Set();
        }
        Assert.That(f.Done(), Is.True);
        Assert.That(f.Result(), Is.EqualTo(3));
        Assert.That(executor.IsShutdown, Is.True);
        Assert.That(executor.Threads.All(t => !t.IsAlive), Is.True);
        Assert.Throws<InvalidOperationException>(() => executor.Submit(() => 1));
        Assert.DoesNotThrow(executor.Dispose, "dispose twice");
    }

    [Test]
    public async Task ShutdownAsyncCanCancelQueuedWork()
    {
        using var release = new ManualResetEventSlim();
        var executor = new ThreadPoolExecutor(1);
        var first = executor.Submit(() => release.Wait(Waits.Long));
        Assert.That(SpinWait.SpinUntil(first.Running, Waits.Long), Is.True);
        var queued = Enumerable.Range(0, 5).Select(i => executor.Submit(() => i)).ToList();
        var shutdown = executor.ShutdownAsync(cancelFutures: true);
        Assert.That(queued.All(f => f.Cancelled()), Is.True);
        Assert.That(shutdown.IsCompleted, Is.False, "the running work holds the shutdown");
        release.Set();
        await shutdown.WaitAsync(Waits.Long);
        Assert.That(first.Result(TimeSpan.Zero), Is.True);
        Assert.That(executor.Threads.All(t => !t.IsAlive), Is.True);
    }

    [Test]
    public void InitializerFailureAlsoFailsWorkSubmittedBeforeTheThreadStarted()
    {
        var logger = new CapturingLogger();
        var executor = new ThreadPoolExecutor(2, initializer: () => throw new FormatException("no init"),
            options: new ThreadPoolExecutorOptions { Logger = logger });
        const string message = "A thread initializer failed, the thread pool is not usable anymore";
        var first = executor.Submit(() => 1);
        var ex = Assert.Throws<BrokenThreadPoolException>(() => first.Result(Waits.Long));
        Assert.That(ex!.Message, Is.EqualTo(message));
        Assert.That(ex, Is.InstanceOf<BrokenExecutorException>().And.InstanceOf<InvalidOperationException>());
        var later = Assert.Throws<BrokenThreadPoolException>(() => executor.Submit(() => 2));
        Assert.That(later!.Message, Is.EqualTo(message));
        Assert.That(logger.Entries.Where(e => e.Level == LogLevel.Critical && e.Exception is FormatException), Is.Not.Empty);
        executor.Shutdown(wait: true);
    }

    [Test]
    public void ADroppedExecutorFinishesItsQueuedWorkThenItsWorkersExit()
    {
        using var release = new ManualResetEventSlim();
        var (threads, futures) = SubmitAndDrop(release);
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        release.Set();
        Assert.That(futures.Select(f => f.Result(Waits.Long)), Is.EqualTo(Enumerable.Range(0, 6)), "no queued work was lost");
        Assert.That(threads.All(t => t.Join(Waits.Join)), Is.True, "the workers of a collected executor exit");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (WorkerThread[], List<Future<int>>) SubmitAndDrop(ManualResetEventSlim release)
    {
        var executor = new ThreadPoolExecutor(2);
        var futures = new List<Future<int>>();
        for (int i = 0; i < 6; i++)
        {
            futures.Add(executor.Submit(Work(release, i))); // a closure over this frame would hold the executor
        }
        return (executor.Threads.ToArray(), futures);
    }

    private static Func<int> Work(ManualResetEventSlim release, int i) => () =>
    {
        release.Wait(Waits.Long);
        return i;
    };
}
