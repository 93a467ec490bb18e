using System.Diagnostics;

namespace Futures.Cluster.Tests;

/// <summary>A node stops in bounded time on SIGTERM, its worker processes with it, even with its
/// membership store gone; a second signal ends it at once.</summary>
public sealed partial class ClusterExecutorTests
{
    private static readonly TimeSpan StopBound = TimeSpan.FromSeconds(10);

    [Test]
    public void SigtermStopsANodeAndItsWorkersWithinTenSecondsWithRedisGone()
    {
        var (node, workers) = RedisNodeWithWorkers();
        _redis!.Dispose();
        _redis = null;
        var watch = Stopwatch.StartNew();
        int code = node.Terminate(StopBound);
        var exited = watch.Elapsed;
        Assert.That(code, Is.Not.EqualTo(-1), $"the node exited within {StopBound.TotalSeconds} s of SIGTERM:\n" + node.Output);
        Assert.That(Eventually(() => workers.All(p => !NodeProcess.IsAlive(p)), StopBound - exited), Is.True,
            "its worker processes are gone within the bound too");
        TestContext.Out.WriteLine($"exited {exited.TotalSeconds:F1} s after SIGTERM, workers gone at {watch.Elapsed.TotalSeconds:F1} s");
        Assert.That(node.Output, Does.Match(@"(?m)^orleans (warning|error|critical) "), "the node logged Orleans' own complaints about Redis:\n" + node.Output);
    }

    [Test]
    public void ASecondSignalEndsAStoppingNodeAtOnce()
    {
        var (node, workers) = RedisNodeWithWorkers();
        _redis!.Dispose();
        _redis = null;
        node.SendSigterm();
        Assert.That(node.WaitForLine("node stopping", StopBound), Is.True, node.Output);
        var watch = Stopwatch.StartNew();
        node.SendSigterm();
        Assert.That(node.WaitForExit(TimeSpan.FromSeconds(3)), Is.True, "the second SIGTERM ended the node at once:\n" + node.Output);
        Assert.That(Eventually(() => workers.All(p => !NodeProcess.IsAlive(p)), TimeSpan.FromSeconds(3)), Is.True,
            "its worker processes are gone");
        TestContext.Out.WriteLine($"exited {watch.Elapsed.TotalSeconds:F1} s after the second SIGTERM");
    }

    [TestCase(false)]
    [TestCase(true)]
    public void WithRedisMembershipAnExecutorWhoseNodesAllDiedFailsItsFuturesAndShutsDownInBoundedTime(bool redisDiesToo)
    {
        _redis = RedisServer.Start();
        var node = Node(NodeProcess.StartRedis(_redis.Address, workers: 1));
        var executor = Executor(_redis.Address);
        var futures = Enumerable.Range(0, 4).Select(_ => executor.Submit(Utf8("sleep:60"))).ToList();
        Assert.That(Eventually(() => futures.Any(f => f.Running()), Long), Is.True, "the node took tasks");
        var watch = Stopwatch.StartNew();
        node.Kill();
        if (redisDiesToo)
        {
            _redis.Dispose();
            _redis = null;
        }
        foreach (var f in futures)
        {
            var ex = f.Exception(Long);
            Assert.That(ex, Is.TypeOf<ClusterUnavailableException>(), ex?.ToString());
        }
        var failed = watch.Elapsed;
        Assert.That(failed, Is.LessThan(TimeSpan.FromSeconds(30)), "the pending futures failed in bounded time");
        Assert.That(executor.ShutdownAsync().Wait(TimeSpan.FromSeconds(15)), Is.True, "shutdown(wait=True) returned");
        TestContext.Out.WriteLine($"futures failed {failed.TotalSeconds:F1} s after the SIGKILL, shutdown done at {watch.Elapsed.TotalSeconds:F1} s");
    }

    // A node with its membership in Redis, two worker processes up (an executor on its static gateway ran
    // a task on each).
    private (NodeProcess Node, List<int> Workers) RedisNodeWithWorkers()
    {
        _redis = RedisServer.Start();
        var node = Node(NodeProcess.StartRedis(_redis.Address, workers: 2));
        var executor = Executor(node.Gateway);
        foreach (var f in Enumerable.Range(0, 4).Select(_ => executor.Submit(Utf8("work:0.2"))).ToList())
        {
            Assert.That(f.Result(Long), Is.Not.Empty);
        }
        var workers = node.WorkerPids();
        Assert.That(workers, Has.Count.EqualTo(2), "both workers are up");
        executor.Shutdown(wait: true);
        return (node, workers);
    }
}
