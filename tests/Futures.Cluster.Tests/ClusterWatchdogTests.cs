using System.Collections.Concurrent;
using System.Diagnostics;

namespace Futures.Cluster.Tests;

/// <summary>
/// The executor's watchdog (<c>CsFutures.Cluster.Watchdog</c>) end to end: a node process made to stall by
/// a chaos fault (<c>CS_FUTURES_CLUSTER_CHAOS</c>), that only the watchdog gets out of, or that it cannot
/// get out of. Its bounds are shortened through <see cref="ClusterExecutorOptions"/> (defaults 10, 60 and
/// 30 s), so that each test takes seconds.
/// </summary>
public sealed partial class ClusterExecutorTests
{
    [Test]
    public void WatchdogTakesBackTasksANodeHoldsWithoutRunningThem()
    {
        // The node's first Take with tasks reports them started, then forgets them: the executor holds
        // them for a live node whose workers are idle. Nothing else takes them back (the node is alive and
        // reported them started; its results of the others all arrive): only the watchdog does.
        const int count = 20;
        var node = Node(NodeProcess.StartWith(Chaos("lose-taken=1"), null, workers: 2));
        var log = new ConcurrentQueue<string>();
        var executor = Executor(node.Gateway, o => new ClusterExecutorOptions
        {
            Address = o.Address,
            Log = log.Enqueue,
            WatchdogOrphanBound = TimeSpan.FromSeconds(2),
        });
        Assert.That(executor.Connected.Wait(Long), Is.True, "connected");
        Assert.That(node.WaitForLine("pulling from executor", Long), Is.True, "the node pulls from the executor:\n" + node.Output);
        var calls = new ConcurrentDictionary<int, int>();
        var watch = Stopwatch.StartNew();
        var futures = Enumerable.Range(0, count).Select(i =>
        {
            var f = executor.Submit(Utf8($"echo:{i}"));
            f.AddDoneCallback(_ => calls.AddOrUpdate(i, 1, (_, n) => n + 1));
            return f;
        }).ToList();
        for (int i = 0; i < count; i++)
        {
            Assert.That(Text(futures[i].Result(Long)), Is.EqualTo($"{i}"), "\n" + node.Output + "\n" + string.Join("\n", log));
        }
        TestContext.Out.WriteLine($"{count} tasks done {watch.Elapsed.TotalSeconds:F1} s after the first submit; watchdog actions {executor.WatchdogActions}, " +
            $"reclaimed {executor.Reclaimed}\n" + string.Join("\n", log));
        Assert.That(node.Output, Does.Contain("chaos: lose-taken hit 1 of 1"), "the node lost tasks");
        Assert.That(executor.WatchdogActions, Is.GreaterThan(0), "the watchdog acted");
        Assert.That(executor.Reclaimed, Is.GreaterThan(0), "it took the lost tasks back");
        Assert.That(log.Any(l => l.Contains("watchdog: node", StringComparison.Ordinal) && l.Contains("they go back to the queue", StringComparison.Ordinal)),
            Is.True, "it logged its action");
        executor.Shutdown(wait: true);
        Assert.That(calls, Has.Count.EqualTo(count));
        Assert.That(calls.Values, Is.All.EqualTo(1), "each future completed once");
        Assert.That(executor.Broken, Is.Null);
        Assert.That(executor.AttemptsLost + executor.LostBeforeStart, Is.Zero, "a reclaim counts no attempt");
    }

    [Test]
    public void WatchdogGivesUpOnAStallItCannotEnd()
    {
        // The node's first (empty) Take answers null: the node takes the executor for closed and never pulls
        // from it again, while its workers idle and the executor queues work. The watchdog registers the
        // executor again (which cannot change the node's mind), then gives up: every pending future fails
        // with ClusterUnavailableException, in bounded time.
        var stall = TimeSpan.FromSeconds(2);
        var giveUp = TimeSpan.FromSeconds(4);
        var node = Node(NodeProcess.StartWith(Chaos("closed-take=1"), null, workers: 2));
        var log = new ConcurrentQueue<string>();
        var executor = Executor(node.Gateway, o => new ClusterExecutorOptions
        {
            Address = o.Address,
            Log = log.Enqueue,
            WatchdogStallBound = stall,
            WatchdogGiveUpAfter = giveUp,
        });
        Assert.That(node.WaitForLine("stopped pulling from executor", Long), Is.True, "the node stopped pulling:\n" + node.Output);
        Assert.That(node.Output, Does.Contain("chaos: closed-take hit 1 of 1"));
        var watch = Stopwatch.StartNew();
        var futures = Enumerable.Range(0, 10).Select(i => executor.Submit(Utf8($"echo:{i}"))).ToList();
        foreach (var future in futures)
        {
            Assert.That(future.Exception(Long), Is.TypeOf<ClusterUnavailableException>(), "\n" + string.Join("\n", log));
        }
        var failedAfter = watch.Elapsed;
        TestContext.Out.WriteLine($"the futures failed {failedAfter.TotalSeconds:F1} s after the submits (stall bound {stall.TotalSeconds} s, " +
            $"give-up {giveUp.TotalSeconds} s); watchdog actions {executor.WatchdogActions}\n" + string.Join("\n", log));
        // Generous for a loaded machine: the bounds plus the watchdog's own period, a report's age and slack.
        Assert.That(failedAfter, Is.LessThan(stall + giveUp + TimeSpan.FromSeconds(20)), "bounded");
        Assert.That(executor.WatchdogActions, Is.GreaterThanOrEqualTo(2), "a registration made again, then the give-up");
        Assert.That(log, Has.Some.Contains("registering the executor again"));
        Assert.That(log, Has.Some.Contains("the watchdog gave up"));
        Assert.That(executor.Broken, Does.Contain("the watchdog gave up"));
        Assert.Throws<ClusterUnavailableException>(() => executor.Submit(Utf8("echo:late")));
    }
}
