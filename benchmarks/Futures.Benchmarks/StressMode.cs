using System.Diagnostics;
using System.Runtime.CompilerServices;
using CsFutures;

namespace Futures.Benchmarks;

/// <summary>Correctness under load for the pool: every submitted item runs exactly once, sleeping
/// workers are always woken, shutdown drains or cancels, and a collected executor's workers exit.</summary>
public static class StressMode
{
    private static int s_failures;

    public static int Run(string[] args)
    {
        var total = Stopwatch.StartNew();
        Step("1,000,000 tasks from 2 submitters", () => TwoSubmitters(1_000_000));
        Step("wake-ups: 20,000 submit/wait with workers going to sleep", () => WakeUps(20_000));
        Step("bursts against sleeping workers, 4 submitters", BurstsAfterSleep);
        Step("lazy start and thread names", LazyStartAndNames);
        Step("shutdown(wait) drains the queue", ShutdownDrains);
        Step("shutdown(cancelFutures) cancels queued work", ShutdownCancels);
        Step("collected executor: idle workers exit", CollectedExecutorWorkersExit);
        Console.WriteLine($"stress finished in {total.Elapsed.TotalSeconds:F1} s: " +
            (s_failures == 0 ? "all passed" : $"{s_failures} FAILED"));
        return s_failures == 0 ? 0 : 1;
    }

    private static void Step(string name, Action step)
    {
        var sw = Stopwatch.StartNew();
        try
        {
            step();
            Console.WriteLine($"ok    {name} ({sw.Elapsed.TotalSeconds:F2} s)");
        }
        catch (Exception ex)
        {
            s_failures++;
            Console.WriteLine($"FAIL  {name}: {ex}");
        }
    }

    private static void Assert(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException(message);
        }
    }

    private static void TwoSubmitters(int count)
    {
        using var executor = new ThreadPoolExecutor(Workloads.MaxWorkers);
        int perThread = count / 2;
        var runs = new int[count];
        var errors = new Exception?[2];
        var threads = Enumerable.Range(0, 2).Select(t => new Thread(() =>
        {
            try
            {
                var fs = new Future<long>[perThread];
                int offset = t * perThread;
                for (int i = 0; i < perThread; i++)
                {
                    int k = offset + i;
                    fs[i] = executor.Submit(() =>
                    {
                        Interlocked.Increment(ref runs[k]);
                        return (long)k * 3 + 1;
                    });
                }
                for (int i = 0; i < perThread; i++)
                {
                    long r = fs[i].Result(TimeSpan.FromSeconds(30));
                    Assert(r == (long)(offset + i) * 3 + 1, $"wrong result {r} for item {offset + i}");
                }
            }
            catch (Exception ex)
            {
                errors[t] = ex;
            }
        })).ToArray();
        foreach (var th in threads)
        {
            th.Start();
        }
        foreach (var th in threads)
        {
            th.Join();
        }
        foreach (var e in errors)
        {
            if (e is not null)
            {
                throw e;
            }
        }
        Assert(runs.All(r => r == 1), "an item ran zero or several times");
        Assert(executor.Threads.Count <= Workloads.MaxWorkers, "too many threads");
    }

    private static void WakeUps(int rounds)
    {
        using var executor = new ThreadPoolExecutor(Workloads.MaxWorkers);
        var rng = new Random(42);
        for (int i = 0; i < rounds; i++)
        {
            int k = i;
            int burst = 1 + rng.Next(3);
            var fs = new Future<int>[burst];
            for (int b = 0; b < burst; b++)
            {
                fs[b] = executor.Submit(() => k);
            }
            foreach (var f in fs)
            {
                Assert(f.Result(TimeSpan.FromSeconds(10)) == k, "wrong result"); // a lost wake-up times out
            }
            if (i % 1000 == 999)
            {
                Thread.Sleep(20); // let every worker get past its spinning and block
            }
            else if (i % 50 == 0)
            {
                Thread.Sleep(1);
            }
        }
    }

    private static void BurstsAfterSleep()
    {
        using var executor = new ThreadPoolExecutor(Workloads.MaxWorkers);
        for (int round = 0; round < 200; round++)
        {
            Thread.Sleep(round % 10 == 0 ? 15 : 0);
            using var go = new ManualResetEventSlim(false);
            var fs = new Future<int>[4][];
            var submitters = Enumerable.Range(0, 4).Select(t => new Thread(() =>
            {
                go.Wait();
                var mine = new Future<int>[250];
                for (int i = 0; i < mine.Length; i++)
                {
                    int k = t * 1000 + i;
                    mine[i] = executor.Submit(() => k);
                }
                fs[t] = mine;
            })).ToArray();
            foreach (var s in submitters)
            {
                s.Start();
            }
            go.Set();
            foreach (var s in submitters)
            {
                s.Join();
            }
            for (int t = 0; t < 4; t++)
            {
                for (int i = 0; i < fs[t].Length; i++)
                {
                    Assert(fs[t][i].Result(TimeSpan.FromSeconds(10)) == t * 1000 + i, "wrong result");
                }
            }
        }
    }

    private static void LazyStartAndNames()
    {
        using var executor = new ThreadPoolExecutor(3, threadNamePrefix: "stress");
        Assert(executor.Threads.Count == 0, "a thread started before any submit");
        using var release = new ManualResetEventSlim(false);
        var blockers = Enumerable.Range(0, 5).Select(_ => executor.Submit(() => release.Wait(10_000))).ToArray();
        Assert(executor.Threads.Count == 3, $"expected 3 threads, got {executor.Threads.Count}");
        var names = executor.Threads.Select(t => t.Name).OrderBy(n => n).ToArray();
        Assert(names.SequenceEqual(["stress_0", "stress_1", "stress_2"]), $"names: {string.Join(",", names)}");
        release.Set();
        foreach (var f in blockers)
        {
            Assert(f.Result(TimeSpan.FromSeconds(10)), "blocker failed");
        }
        // All three are idle now: later submits reuse them (CPython's idle semaphore).
        Thread.Sleep(50);
        for (int i = 0; i < 100; i++)
        {
            executor.Submit(() => i).Result(TimeSpan.FromSeconds(10));
        }
        Assert(executor.Threads.Count == 3, "threads beyond max");

        using var single = new ThreadPoolExecutor(4, threadNamePrefix: "seq");
        single.Submit(() => 0).Result();
        Thread.Sleep(50); // the worker finds the queue empty and counts itself idle
        for (int i = 0; i < 10; i++)
        {
            single.Submit(() => i).Result();
            Thread.Sleep(20);
        }
        Assert(single.Threads.Count == 1, $"an idle worker was not reused: {single.Threads.Count} threads");
    }

    private static void ShutdownDrains()
    {
        var executor = new ThreadPoolExecutor(Workloads.MaxWorkers);
        var fs = new Future<int>[100_000];
        for (int i = 0; i < fs.Length; i++)
        {
            int k = i;
            fs[i] = executor.Submit(() => k);
        }
        executor.Shutdown(wait: true);
        for (int i = 0; i < fs.Length; i++)
        {
            Assert(fs[i].State == FutureState.Finished && fs[i].Result() == i, $"item {i} not run by shutdown");
        }
        Assert(executor.Threads.All(t => !t.IsAlive), "a worker outlived shutdown(wait)");
        try
        {
            executor.Submit(() => 1);
            Assert(false, "submit after shutdown did not throw");
        }
        catch (InvalidOperationException)
        {
        }
    }

    private static void ShutdownCancels()
    {
        var executor = new ThreadPoolExecutor(2);
        using var release = new ManualResetEventSlim(false);
        var blockers = Enumerable.Range(0, 2).Select(_ => executor.Submit(() => release.Wait(10_000))).ToArray();
        var queued = Enumerable.Range(0, 1000).Select(i => executor.Submit(() => i)).ToArray();
        executor.Shutdown(wait: false, cancelFutures: true);
        release.Set();
        Assert(executor.Join(TimeSpan.FromSeconds(10)), "workers did not exit");
        Assert(blockers.All(f => f.Result()), "running work was lost");
        int cancelled = queued.Count(f => f.Cancelled());
        Assert(queued.All(f => f.Done()), "a queued future is neither run nor cancelled");
        Assert(cancelled >= 990, $"only {cancelled} of 1000 queued futures were cancelled");
    }

    private static void CollectedExecutorWorkersExit()
    {
        var threads = StartAndDrop();
        for (int i = 0; i < 50 && threads.Any(t => t.IsAlive); i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Thread.Sleep(20);
        }
        Assert(threads.Count == 4, $"expected 4 threads, got {threads.Count}");
        Assert(threads.All(t => !t.IsAlive), "workers of a collected executor are still alive");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static List<WorkerThread> StartAndDrop()
    {
        var executor = new ThreadPoolExecutor(4);
        using var release = new ManualResetEventSlim(false);
        var fs = Enumerable.Range(0, 4).Select(_ => executor.Submit(() => release.Wait(10_000))).ToArray();
        release.Set();
        foreach (var f in fs)
        {
            f.Result();
        }
        return executor.Threads.ToList();
    }
}
