using CsFutures;

namespace Futures.Benchmarks;

/// <summary>
/// One batch of <c>n</c> trivial tasks (each returns its index) per call, for every side being
/// compared. Each returns the sum of the results so that the caller can check it
/// (<see cref="ExpectedSum"/>) and the JIT cannot drop the work. Shared by the BenchmarkDotNet
/// benchmarks, the quick mode and the stress mode.
/// </summary>
public static class Workloads
{
    public const int MaxWorkers = 4;

    public static long ExpectedSum(int n) => (long)n * (n - 1) / 2;

    // ---- ours ----------------------------------------------------------------------------------

    /// <summary>Submit all, then Result() each in order.</summary>
    public static long SubmitThenResult(ThreadPoolExecutor executor, Future<int>[] futures)
    {
        int n = futures.Length;
        for (int i = 0; i < n; i++)
        {
            int k = i;
            futures[i] = executor.Submit(() => k);
        }
        long sum = 0;
        for (int i = 0; i < n; i++)
        {
            sum += futures[i].Result();
            futures[i] = null!;
        }
        return sum;
    }

    /// <summary>executor.Map(fn, range), results in order.</summary>
    public static long Map(ThreadPoolExecutor executor, int n)
    {
        long sum = 0;
        foreach (int r in executor.Map(static (int x) => x, Enumerable.Range(0, n)))
        {
            sum += r;
        }
        return sum;
    }

    /// <summary>Submit all, then iterate Futures.AsCompleted over them.</summary>
    public static long AsCompleted(ThreadPoolExecutor executor, Future<int>[] futures)
    {
        int n = futures.Length;
        for (int i = 0; i < n; i++)
        {
            int k = i;
            futures[i] = executor.Submit(() => k);
        }
        long sum = 0;
        foreach (var f in CsFutures.Futures.AsCompleted(futures))
        {
            sum += f.Result();
        }
        Array.Clear(futures);
        return sum;
    }

    // ---- baselines -----------------------------------------------------------------------------

    /// <summary>Task.Run all, then Task.WhenAll.</summary>
    public static long TaskRunWhenAll(Task<int>[] tasks)
    {
        int n = tasks.Length;
        for (int i = 0; i < n; i++)
        {
            int k = i;
            tasks[i] = Task.Run(() => k);
        }
        int[] results = Task.WhenAll(tasks).GetAwaiter().GetResult();
        long sum = 0;
        foreach (int r in results)
        {
            sum += r;
        }
        Array.Clear(tasks);
        return sum;
    }

    /// <summary>ThreadPool.UnsafeQueueUserWorkItem with one countdown and one event for the batch:
    /// the floor of what any pool-based executor can reach.</summary>
    public static long ThreadPoolCountdown(int[] results)
    {
        var batch = new Batch(results);
        int n = results.Length;
        for (int i = 0; i < n; i++)
        {
            ThreadPool.UnsafeQueueUserWorkItem(new CountdownItem(batch, i), preferLocal: false);
        }
        batch.Done.Wait();
        batch.Done.Dispose();
        long sum = 0;
        foreach (int r in results)
        {
            sum += r;
        }
        return sum;
    }

    private sealed class Batch(int[] results)
    {
        public readonly int[] Results = results;
        public readonly ManualResetEventSlim Done = new(false);
        public int Remaining = results.Length;
    }

    private sealed class CountdownItem(Batch batch, int index) : IThreadPoolWorkItem
    {
        public void Execute()
        {
            batch.Results[index] = index;
            if (Interlocked.Decrement(ref batch.Remaining) == 0)
            {
                batch.Done.Set();
            }
        }
    }
}
