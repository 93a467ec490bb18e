using System.Collections.Concurrent;
using System.Diagnostics;

namespace Futures.Cluster.Tests;

/// <summary>A node frozen past its death (SIGSTOP, then SIGCONT), and a result over a node's limit.</summary>
public sealed partial class ClusterExecutorTests
{
    [Test]
    public void ANodeFrozenPastItsDeathHasItsLateResultsDroppedAndExits()
    {
        const int count = 48;
        var primary = Node(null, workers: 2);
        var second = Node(primary, workers: 2);
        var victim = Node(primary, workers: 2);
        var executor = Executor(primary.Gateway);
        var calls = new ConcurrentDictionary<int, int>();
        int onVictim = 0;
        using var victimBusy = new ManualResetEventSlim();
        var futures = new List<Future<byte[]>>();
        for (int i = 0; i < count; i++)
        {
            int index = i;
            var f = executor.Submit(Utf8("work:1"));
            f.AddDoneCallback(done =>
            {
                calls.AddOrUpdate(index, 1, (_, n) => n + 1);
                if (done.Exception(TimeSpan.Zero) is null && victim.WorkerPids().Contains(int.Parse(Text(done.Result(TimeSpan.Zero))))
                    && Interlocked.Increment(ref onVictim) >= 2)
                {
                    victimBusy.Set();
                }
            });
            futures.Add(f);
        }
        // Once the victim has returned results, its workers are on their next tasks: freeze the node with
        // those tasks running (the workers are not frozen: their replies wait in the node).
        Assert.That(victimBusy.Wait(Long), Is.True, "the victim ran tasks");
        var victimWorkers = victim.WorkerPids();
        Assert.That(victimWorkers, Is.Not.Empty, "the victim's workers are up");
        var watch = Stopwatch.StartNew();
        victim.Pause();
        TimeSpan detected;
        try
        {
            Assert.That(Eventually(() => executor.AttemptsLost + executor.LostBeforeStart > 0, Long), Is.True,
                "the executor took the frozen node's tasks back");
            detected = watch.Elapsed;
            // Death detection (3 missed probes of 2 s) outlasts the tasks the workers were running when the
            // node froze (1 s each): their replies wait in the frozen node.
            Assert.That(detected, Is.GreaterThan(TimeSpan.FromSeconds(1.5)));
        }
        finally
        {
            victim.Resume();
        }
        var resumed = watch.Elapsed;
        var allWorkers = victimWorkers.Concat(primary.WorkerPids()).Concat(second.WorkerPids()).ToHashSet();
        for (int i = 0; i < count; i++)
        {
            Assert.That(allWorkers, Does.Contain(int.Parse(Text(futures[i].Result(Long)))), $"task {i} ran on a worker of the cluster");
        }
        var allDone = watch.Elapsed;
        Assert.That(victim.WaitForExit(TimeSpan.FromSeconds(60)), Is.True, "the node declared dead exits after SIGCONT:\n" + victim.Output);
        var exited = watch.Elapsed;
        TestContext.Out.WriteLine($"the victim's exit code: {victim.ExitCode}");
        Assert.That(Eventually(() => victimWorkers.All(p => !NodeProcess.IsAlive(p)), TimeSpan.FromSeconds(30)), Is.True,
            "the frozen node's worker processes are gone");
        TestContext.Out.WriteLine($"death noticed {detected.TotalSeconds:F1} s after SIGSTOP, SIGCONT at {resumed.TotalSeconds:F1} s, " +
            $"all done at {allDone.TotalSeconds:F1} s, node exited at {exited.TotalSeconds:F1} s; attempts lost {executor.AttemptsLost}, " +
            $"lost before start {executor.LostBeforeStart}, late results dropped {executor.LateResultsDropped}");
        TestContext.Out.WriteLine("why the victim exited: " + string.Join("\n", victim.Output.Split('\n')
            .Where(l => l.Contains("FailFast", StringComparison.OrdinalIgnoreCase) || l.Contains("dead", StringComparison.OrdinalIgnoreCase)
                || l.Contains("Fatal", StringComparison.OrdinalIgnoreCase) || l.StartsWith("node ", StringComparison.Ordinal)).Take(10)));
        Assert.That(calls, Has.Count.EqualTo(count));
        Assert.That(calls.Values, Is.All.EqualTo(1), "each future completed once");
        Assert.That(executor.LateResultsDropped, Is.GreaterThan(0), "the frozen node's results, sent after SIGCONT, were dropped");
        Assert.That(executor.Broken, Is.Null);
        Assert.That(Text(executor.Submit(Utf8("echo:after")).Result(Long)), Is.EqualTo("after"), "the cluster goes on");
    }

    [Test]
    public void AnOversizedResultFailsOnlyItsFuture()
    {
        var primary = Node(null, workers: 2, "--max-result", "1000");
        var executor = Executor(primary.Gateway);
        var before = Enumerable.Range(0, 20).Select(i => executor.Submit(Utf8($"echo:{i}"))).ToList();
        var big = executor.Submit(Utf8("echo:" + new string('z', 5000)));
        var after = Enumerable.Range(20, 20).Select(i => executor.Submit(Utf8($"echo:{i}"))).ToList();
        var atLimit = executor.Submit(Utf8("echo:" + new string('y', 1000)));
        var ex = big.Exception(Long);
        Assert.That(ex, Is.Not.Null.And.Not.TypeOf<KilledWorkerException>(), ex?.ToString());
        Assert.That(ex!.Message, Does.Contain("result of 5000 bytes is over the node's limit of 1000 bytes"));
        var all = before.Concat(after).ToList();
        for (int i = 0; i < all.Count; i++)
        {
            Assert.That(Text(all[i].Result(Long)), Is.EqualTo($"{i}"));
        }
        Assert.That(Text(atLimit.Result(Long)), Is.EqualTo(new string('y', 1000)), "a result at the limit is returned");
        Assert.That(executor.AttemptsLost, Is.Zero, "one attempt each");
        Assert.That(executor.LostBeforeStart + executor.Reclaimed + executor.LateResultsDropped, Is.Zero);
        Assert.That(primary.HasExited, Is.False);
    }
}
