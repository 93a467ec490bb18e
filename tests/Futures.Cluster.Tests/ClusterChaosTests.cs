namespace Futures.Cluster.Tests;

/// <summary>
/// Faults injected deterministically into a node's own Orleans calls (<c>CS_FUTURES_CLUSTER_CHAOS</c>, see
/// <c>CsFutures.Cluster.Chaos.ChaosSettings</c>): each test checks from the node's log that its fault hit,
/// and that every future completed once.
/// </summary>
public sealed partial class ClusterExecutorTests
{
    [Test]
    public void ANodeKeepsPullingFromAnExecutorItKnowsThroughAGapInTheDirectory()
    {
        const int gap = 10; // listings, one a second
        var node = Node(NodeProcess.StartWith(Chaos($"empty-listings={gap}"), null, workers: 2));
        var executor = Executor(node.Gateway);
        Assert.That(Text(executor.Submit(Utf8("echo:before")).Result(Long)), Is.EqualTo("before"));
        Assert.That(node.WaitForLine("chaos: empty-listings hit 1 of", Long), Is.True, "the gap began:\n" + node.Output);
        var futures = Enumerable.Range(0, 20).Select(i => executor.Submit(Utf8($"echo:{i}"))).ToList();
        for (int i = 0; i < futures.Count; i++)
        {
            Assert.That(Text(futures[i].Result(Long)), Is.EqualTo($"{i}"));
        }
        Assert.That(node.Output, Does.Not.Contain($"chaos: empty-listings hit {gap} of {gap}"),
            "the tasks submitted in the gap ran during the gap:\n" + node.Output);
        Assert.That(node.WaitForLine($"chaos: empty-listings hit {gap} of {gap}", Long), Is.True, "the gap ended");
        Assert.That(Text(executor.Submit(Utf8("echo:after")).Result(Long)), Is.EqualTo("after"));
        Assert.That(node.Output, Does.Not.Contain("stopped pulling"), "the node never dropped the executor:\n" + node.Output);
        Assert.That(executor.AttemptsLost + executor.LostBeforeStart + executor.Reclaimed + executor.LateResultsDropped, Is.Zero);
    }

    [Test]
    public void ANodeKeepsPullingWhileARegisterHoldsTheDirectoryForTenSeconds()
    {
        // The executor's sixth registration (its first five, a second apart, pass) waits 10 s in the
        // directory grain, which answers nothing else meanwhile: the node's listings time out, and its
        // executor's later registrations queue behind it.
        var node = Node(NodeProcess.StartWith(Chaos("delay-register=1@5"), null, workers: 2));
        var executor = Executor(node.Gateway);
        var calls = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
        Assert.That(Text(executor.Submit(Utf8("echo:before")).Result(Long)), Is.EqualTo("before"));
        Assert.That(node.WaitForLine("chaos: delay-register hit 1 of 1", Long), Is.True, "the registration was delayed:\n" + node.Output);
        var delayed = System.Diagnostics.Stopwatch.StartNew();
        var futures = Enumerable.Range(0, 20).Select(i =>
        {
            var f = executor.Submit(Utf8($"echo:{i}"));
            f.AddDoneCallback(_ => calls.AddOrUpdate(i, 1, (_, n) => n + 1));
            return f;
        }).ToList();
        for (int i = 0; i < futures.Count; i++)
        {
            Assert.That(Text(futures[i].Result(Long)), Is.EqualTo($"{i}"));
        }
        var ran = delayed.Elapsed;
        TestContext.Out.WriteLine($"the tasks submitted during the delay were done {ran.TotalSeconds:F1} s after it began");
        Assert.That(ran, Is.LessThan(TimeSpan.FromSeconds(5)), "they ran during the delay, not after it:\n" + node.Output);
        Thread.Sleep(TimeSpan.FromSeconds(12) - ran); // past the delay
        Assert.That(Text(executor.Submit(Utf8("echo:after")).Result(Long)), Is.EqualTo("after"));
        Assert.That(node.Output, Does.Not.Contain("stopped pulling from executor"), "the node never dropped the executor:\n" + node.Output);
        executor.Shutdown(wait: true);
        Assert.That(calls, Has.Count.EqualTo(futures.Count));
        Assert.That(calls.Values, Is.All.EqualTo(1), "each future completed once");
        Assert.That(executor.AttemptsLost + executor.LostBeforeStart + executor.Reclaimed + executor.LateResultsDropped, Is.Zero);
    }

    [Test]
    public void AResultBatchLostOnItsWayIsSentAgain()
    {
        const int count = 30;
        var node = Node(NodeProcess.StartWith(Chaos("drop-completed=1"), null, workers: 2));
        var executor = Executor(node.Gateway);
        var calls = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
        var futures = Enumerable.Range(0, count).Select(i =>
        {
            var f = executor.Submit(Utf8($"echo:{i}"));
            f.AddDoneCallback(_ => calls.AddOrUpdate(i, 1, (_, n) => n + 1));
            return f;
        }).ToList();
        for (int i = 0; i < count; i++)
        {
            // Nothing else would ever complete these: the node holds no task, the executor hears nothing.
            Assert.That(Text(futures[i].Result(TimeSpan.FromSeconds(30))), Is.EqualTo($"{i}"), "\n" + node.Output);
        }
        Assert.That(node.Output, Does.Contain("chaos: drop-completed hit 1 of 1"), "a batch was lost");
        executor.Shutdown(wait: true);
        Assert.That(calls, Has.Count.EqualTo(count));
        Assert.That(calls.Values, Is.All.EqualTo(1), "each future completed once");
        Assert.That(executor.AttemptsLost + executor.LostBeforeStart + executor.Reclaimed, Is.Zero, "one attempt each");
    }

    [Test]
    public void KillingOnlyTheDirectorysHostLosesNothing()
    {
        // Redis membership; the directory activates on the first node (the only one when it first lists);
        // the executor reaches the cluster through the other two, so the kill takes the directory alone.
        const int count = 3000;
        const string active = "the executor directory is active on this node";
        _redis = RedisServer.Start();
        var host = Node(NodeProcess.StartRedis(_redis.Address, workers: 1));
        Assert.That(host.WaitForLine(active, Long), Is.True, "the directory activated on the first node:\n" + host.Output);
        var others = new[] { Node(NodeProcess.StartRedis(_redis.Address, workers: 1)), Node(NodeProcess.StartRedis(_redis.Address, workers: 1)) };
        var executor = Executor(string.Join(",", others.Select(n => n.Gateway)));
        var calls = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
        int completed = 0;
        using var thirty = new ManualResetEventSlim();
        var futures = Enumerable.Range(0, count).Select(i =>
        {
            var f = executor.Submit(Utf8(i % 2 == 0 ? $"echo:{i}" : "work:0.002"));
            f.AddDoneCallback(_ =>
            {
                calls.AddOrUpdate(i, 1, (_, n) => n + 1);
                if (Interlocked.Increment(ref completed) == count * 3 / 10)
                {
                    thirty.Set();
                }
            });
            return f;
        }).ToList();
        Assert.That(thirty.Wait(Long), Is.True, "30% of the tasks completed");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        host.Kill();
        for (int i = 0; i < count; i++)
        {
            var result = futures[i].Result(Long);
            if (i % 2 == 0)
            {
                Assert.That(Text(result), Is.EqualTo($"{i}"));
            }
        }
        TestContext.Out.WriteLine($"last result {watch.Elapsed.TotalSeconds:F1} s after the directory's host was killed; attempts lost {executor.AttemptsLost}, " +
            $"lost before start {executor.LostBeforeStart}, reclaimed {executor.Reclaimed}, late results dropped {executor.LateResultsDropped}");
        Assert.That(Eventually(() => others.Any(n => n.Output.Contains(active, StringComparison.Ordinal)), Long), Is.True,
            "the directory was re-activated on a survivor");
        Assert.That(executor.Broken, Is.Null);
        Assert.That(Text(executor.Submit(Utf8("echo:after")).Result(Long)), Is.EqualTo("after"), "the cluster goes on");
        executor.Shutdown(wait: true);
        Assert.That(calls, Has.Count.EqualTo(count));
        Assert.That(calls.Values, Is.All.EqualTo(1), "each future completed once");
        foreach (var node in others)
        {
            Assert.That(node.Output, Does.Not.Contain("has been absent from the directory"), "no survivor dropped the executor:\n" + node.Output);
        }
    }

    private static Dictionary<string, string> Chaos(string faults) => new() { ["CS_FUTURES_CLUSTER_CHAOS"] = faults };
}
