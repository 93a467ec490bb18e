namespace Futures.Native.Tests;

/// <summary><see cref="ThreadPoolExecutorOptions.ItemStarting"/> and
/// <see cref="ThreadPoolExecutorOptions.WorkerIdle"/>: where a bridge that keeps its lock between items
/// (the Python bridge's GIL) gets the chance to give it back.</summary>
public class WorkerHookTests
{
    [Test]
    public void ItemStartingRunsOnTheWorkerBeforeEachItem()
    {
        var seen = new List<(string What, int Thread)>();
        var options = new ThreadPoolExecutorOptions
        {
            ItemStarting = item =>
            {
                lock (seen)
                {
                    seen.Add(("starting", Environment.CurrentManagedThreadId));
                }
            },
        };
        using var executor = new ThreadPoolExecutor(1, options: options);
        var futures = Enumerable.Range(0, 3).Select(i => executor.Submit(() =>
        {
            lock (seen)
            {
                seen.Add(($"run {i}", Environment.CurrentManagedThreadId));
            }
            return i;
        })).ToList();
        Assert.That(futures.Select(f => f.Result(Waits.Long)), Is.EqualTo(new[] { 0, 1, 2 }));
        executor.Shutdown(wait: true);
        Assert.That(seen.Select(s => s.What), Is.EqualTo(new[] { "starting", "run 0", "starting", "run 1", "starting", "run 2" }));
        Assert.That(seen.Select(s => s.Thread).Distinct().Count(), Is.EqualTo(1), "on the worker's own thread");
    }

    [Test]
    public void WorkerIdleRunsWhenTheQueueIsEmptyBeforeTheWorkerWaitsOrExits()
    {
        int idle = 0;
        using var running = new ManualResetEventSlim();
        using var gate = new ManualResetEventSlim();
        var options = new ThreadPoolExecutorOptions { WorkerIdle = () => Interlocked.Increment(ref idle) };
        var executor = new ThreadPoolExecutor(1, options: options);
        var first = executor.Submit(() =>
        {
            running.Set();
            gate.Wait(Waits.Long);
            return 1;
        });
        Assert.That(running.Wait(Waits.Long), Is.True);
        var second = executor.Submit(() => 2); // queued behind the first: no idle moment between them
        gate.Set();
        Assert.That(first.Result(Waits.Long) + second.Result(Waits.Long), Is.EqualTo(3));
        executor.Shutdown(wait: true);
        Assert.That(Volatile.Read(ref idle), Is.EqualTo(1),
            "once, when the queue was empty after the second item: never between two queued items");
    }
}
