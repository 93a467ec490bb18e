using System.Collections.Concurrent;
using System.Diagnostics;

namespace Futures.Cluster.Tests;

/// <summary>Failures seen in seconds (issue 22, item 3): a SIGKILLed node's tasks run again elsewhere
/// and the last result arrives within a bound of the kill, with default settings on loopback.</summary>
public sealed partial class ClusterExecutorTests
{
    /// <summary>The bound checked here: generous for a loaded CI machine; the figure measured is printed
    /// (the soak, scripts/cluster_soak.py, reports its median and max against the 5 s).</summary>
    private static readonly TimeSpan DetectionBound = TimeSpan.FromSeconds(8);

    [Test]
    public void WithRedisMembershipTheLastResultArrivesSoonAfterASigkill()
    {
        _redis = RedisServer.Start();
        var first = Node(NodeProcess.StartRedis(_redis.Address, workers: 1));
        Node(NodeProcess.StartRedis(_redis.Address, workers: 1));
        Node(NodeProcess.StartRedis(_redis.Address, workers: 1));
        var executor = Executor(_redis.Address);
        KillAndMeasure(executor, first, "Redis membership, the first-started node killed");
    }

    [Test]
    public void UnderDevelopmentClusteringTheLastResultArrivesSoonAfterASigkill()
    {
        var primary = Node(null, workers: 1);
        Node(primary, workers: 1);
        var victim = Node(primary, workers: 1);
        var executor = Executor(primary.Gateway);
        KillAndMeasure(executor, victim, "development clustering, a node other than the primary killed");
    }

    // 1,500 tasks of 2 ms on three nodes of one worker each; the victim is SIGKILLed at 30 %, holding tasks.
    private void KillAndMeasure(ClusterExecutor executor, NodeProcess victim, string setup)
    {
        const int count = 1500;
        // A node that has not yet found the executor holds none of its tasks, and killing it would prove
        // nothing (a loaded CI machine once killed such a node: nothing to take back, NodesLost 0).
        Assert.That(Eventually(() => _nodes.All(n => n.Output.Contains("pulling from executor", StringComparison.Ordinal)), Long),
            Is.True, "every node pulls from the executor before the first submit");
        var calls = new ConcurrentDictionary<int, int>();
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
        var run = Stopwatch.StartNew();
        Assert.That(thirty.Wait(Long), Is.True, "30% of the tasks completed");
        var toThirty = run.Elapsed;
        Assert.That(Eventually(() => executor.NodesHoldingTasks().Contains(victim.NodeId), Long), Is.True, "the victim holds tasks");
        var watch = Stopwatch.StartNew();
        victim.Kill();
        var detected = Task.Run(() =>
        {
            Eventually(() => executor.NodesLost > 0, Long);
            return watch.Elapsed;
        });
        for (int i = 0; i < count; i++)
        {
            var result = futures[i].Result(Long);
            if (i % 2 == 0)
            {
                Assert.That(Text(result), Is.EqualTo($"{i}"));
            }
        }
        var last = watch.Elapsed;
        TestContext.Out.WriteLine($"{setup}: 30% done {toThirty.TotalSeconds:F1} s after the first submit; the node's loss seen " +
            $"{detected.Result.TotalSeconds:F2} s after the SIGKILL ({executor.LastNodeLost}), last result {last.TotalSeconds:F1} s after it; nodes lost {executor.NodesLost}, " +
            $"attempts lost {executor.AttemptsLost}, lost before start {executor.LostBeforeStart}, reclaimed {executor.Reclaimed}, " +
            $"late results dropped {executor.LateResultsDropped}");
        foreach (var node in _nodes.Where(n => n != victim))
        {
            TestContext.Out.WriteLine($"survivor {node.NodeId}:\n  " + string.Join("\n  ", node.Output.Split('\n')
                .Where(l => l.Contains("result(s)", StringComparison.Ordinal) || l.Contains("pulling", StringComparison.Ordinal)
                    || l.Contains("directory", StringComparison.Ordinal) || l.StartsWith("node ", StringComparison.Ordinal)).TakeLast(15)));
        }
        Assert.That(last, Is.LessThan(DetectionBound), "the killed node's tasks ran again elsewhere in time");
        Assert.That(executor.NodesLost, Is.GreaterThanOrEqualTo(1), "the killed node's tasks were taken back");
        Assert.That(executor.Broken, Is.Null);
        Assert.That(Text(executor.Submit(Utf8("echo:after")).Result(Long)), Is.EqualTo("after"), "the cluster goes on");
        executor.Shutdown(wait: true);
        Assert.That(calls, Has.Count.EqualTo(count + 0));
        Assert.That(calls.Values, Is.All.EqualTo(1), "each future completed once");
        foreach (var node in _nodes.Where(n => n != victim))
        {
            Assert.That(node.HasExited, Is.False, "no false death:\n" + node.Output);
        }
    }
}
