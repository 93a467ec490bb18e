using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using CsFutures.Processes;

namespace Futures.Cluster.Tests;

/// <summary>
/// <see cref="ClusterExecutor"/> against real nodes: the node program started as separate processes on
/// loopback, each with real echo-worker processes (<c>tests/Futures.Native.Tests/workers/echo_worker.py</c>, copied to <c>workers/</c>).
/// </summary>
[NonParallelizable]
public sealed partial class ClusterExecutorTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);

    private readonly List<NodeProcess> _nodes = [];
    private readonly List<ClusterExecutor> _executors = [];
    private RedisServer? _redis;

    [TearDown]
    public void TearDown()
    {
        // Every step runs even when an earlier one throws: a failing executor shutdown must not leave
        // node processes behind.
        var watch = Stopwatch.StartNew();
        var errors = new List<Exception>();
        foreach (var executor in _executors)
        {
            try
            {
                executor.ShutdownAsync(cancelFutures: true).Wait(TimeSpan.FromSeconds(30));
            }
            catch (Exception ex)
            {
                errors.Add(ex);
            }
        }
        _executors.Clear();
        var executorsStopped = watch.Elapsed;
        foreach (var node in _nodes)
        {
            try
            {
                node.Dispose();
            }
            catch (Exception ex)
            {
                errors.Add(ex);
            }
        }
        _nodes.Clear();
        try
        {
            _redis?.Dispose();
        }
        catch (Exception ex)
        {
            errors.Add(ex);
        }
        _redis = null;
        TestContext.Out.WriteLine($"teardown: executors {executorsStopped.TotalSeconds:F1} s, nodes {(watch.Elapsed - executorsStopped).TotalSeconds:F1} s");
        if (errors.Count > 0)
        {
            throw new AggregateException("teardown", errors);
        }
    }

    [Test]
    public void ResultsRoundTripAndEachFutureCompletesOnce()
    {
        var primary = Node(null, workers: 2);
        var executor = Executor(primary.Gateway);
        var calls = new ConcurrentDictionary<int, int>();
        var futures = new List<Future<byte[]>>();
        for (int i = 0; i < 500; i++)
        {
            int index = i;
            var f = executor.Submit(Utf8($"echo:task {i} ☃"));
            f.AddDoneCallback(_ => calls.AddOrUpdate(index, 1, (_, n) => n + 1));
            futures.Add(f);
        }
        var error = executor.Submit(Utf8("fail:boom"));
        for (int i = 0; i < futures.Count; i++)
        {
            Assert.That(Text(futures[i].Result(Long)), Is.EqualTo($"task {i} ☃"));
        }
        var ex = error.Exception(Long);
        Assert.That(ex, Is.TypeOf<WorkerTaskException>());
        Assert.That(Text(((WorkerTaskException)ex!).Payload), Is.EqualTo("boom"));

        executor.Shutdown(wait: true);
        Assert.That(calls, Has.Count.EqualTo(500));
        Assert.That(calls.Values, Is.All.EqualTo(1), "each future completed once");
        Assert.That(executor.LateResultsDropped + executor.AttemptsLost + executor.LostBeforeStart, Is.Zero);
        Assert.Throws<InvalidOperationException>(() => executor.Submit(Utf8("echo:late")));
    }

    [Test]
    public void SigkillOfANodeMidRunLosesNothing()
    {
        // Every 4th task reports the worker that ran it (to see the victim at work); the others echo their
        // index, so that every result is checked exactly.
        const int count = 20_000;
        var primary = Node(null, workers: 2);
        var second = Node(primary, workers: 2);
        var victim = Node(primary, workers: 2);
        var executor = Executor(primary.Gateway);
        var calls = new ConcurrentDictionary<int, int>();
        int completed = 0;
        using var thirty = new ManualResetEventSlim();
        using var everyCallbackRan = new ManualResetEventSlim();
        var futures = new List<Future<byte[]>>(count);
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            int index = i;
            var f = executor.Submit(Utf8(i % 4 == 0 ? "work:0.001" : $"echo:{i}"));
            f.AddDoneCallback(_ =>
            {
                calls.AddOrUpdate(index, 1, (_, n) => n + 1);
                int done = Interlocked.Increment(ref completed);
                if (done == count * 3 / 10)
                {
                    thirty.Set();
                }
                if (done == count)
                {
                    everyCallbackRan.Set();
                }
            });
            futures.Add(f);
        }
        Assert.That(thirty.Wait(Long), Is.True, "30% of the tasks completed");
        var victimWorkers = victim.WorkerPids();
        Assert.That(victimWorkers, Is.Not.Empty, "the victim node was running workers");
        var allWorkers = victimWorkers.Concat(primary.WorkerPids()).Concat(second.WorkerPids()).ToHashSet();
        victim.Kill();
        var killedAt = watch.Elapsed;
        var lastAt = TimeSpan.Zero;
        var pidsByNode = new Dictionary<int, int>();
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        for (int i = 0; i < count; i++)
        {
            var left = deadline - DateTime.UtcNow;
            Assert.That(futures[i].Done() || futures[i].Wait(left > TimeSpan.Zero ? left : TimeSpan.Zero), Is.True,
                $"task {i} still pending a minute after the SIGKILL ({count - completed} pending)");
            string text = Text(futures[i].Result(TimeSpan.Zero));
            lastAt = watch.Elapsed;
            if (i % 4 == 0)
            {
                int pid = int.Parse(text);
                Assert.That(allWorkers, Does.Contain(pid), $"task {i} ran on a worker of the cluster");
                pidsByNode[pid] = pidsByNode.GetValueOrDefault(pid) + 1;
            }
            else
            {
                Assert.That(text, Is.EqualTo($"{i}"));
            }
        }
        TestContext.Out.WriteLine($"{count} tasks in {lastAt.TotalSeconds:F1} s; SIGKILL at {killedAt.TotalSeconds:F1} s; " +
            $"attempts lost {executor.AttemptsLost}, lost before start {executor.LostBeforeStart}, late results dropped {executor.LateResultsDropped}");
        // A future is done before its callbacks run (as in CPython), so the last callbacks may still be
        // running when the last future is seen done: a run once counted 19,999 of them.
        Assert.That(everyCallbackRan.Wait(Long), Is.True, $"every done-callback ran ({completed} of {count})");
        Assert.That(calls.Values, Is.All.EqualTo(1), "each future completed once");
        Assert.That(calls, Has.Count.EqualTo(count));
        Assert.That(executor.AttemptsLost + executor.LostBeforeStart, Is.GreaterThan(0), "the killed node held tasks, and they were taken back");
        Assert.That(victimWorkers.Any(pidsByNode.ContainsKey), Is.True, "the victim ran tasks before its death");
        Assert.That(Eventually(() => victimWorkers.All(p => !NodeProcess.IsAlive(p)), TimeSpan.FromSeconds(30)), Is.True,
            "the killed node's worker processes are gone");
    }

    [Test]
    public void WithRedisMembershipAnyNodeMayDie()
    {
        const int count = 1500;
        _redis = RedisServer.Start();
        var first = Node(NodeProcess.StartRedis(_redis.Address, workers: 2));
        Node(NodeProcess.StartRedis(_redis.Address, workers: 2));
        Node(NodeProcess.StartRedis(_redis.Address, workers: 2));
        var executor = Executor(_redis.Address);
        var setup = Stopwatch.StartNew();
        int completed = 0;
        using var thirty = new ManualResetEventSlim();
        var futures = Enumerable.Range(0, count).Select(i =>
        {
            var f = executor.Submit(Utf8($"echo:{i}"));
            f.AddDoneCallback(_ =>
            {
                if (Interlocked.Increment(ref completed) == count * 3 / 10)
                {
                    thirty.Set();
                }
            });
            return f;
        }).ToList();
        Assert.That(thirty.Wait(Long), Is.True, "30% of the tasks completed");
        TestContext.Out.WriteLine($"30% after {setup.Elapsed.TotalSeconds:F1} s");
        var watch = Stopwatch.StartNew();
        first.Kill(); // the first node started: what would be the primary under development clustering
        for (int i = 0; i < count; i++)
        {
            Assert.That(Text(futures[i].Result(Long)), Is.EqualTo($"{i}"));
        }
        TestContext.Out.WriteLine($"last result {watch.Elapsed.TotalSeconds:F1} s after the SIGKILL; attempts lost {executor.AttemptsLost}, " +
            $"lost before start {executor.LostBeforeStart}, reclaimed {executor.Reclaimed}");
        Assert.That(executor.Broken, Is.Null);
        Assert.That(Text(executor.Submit(Utf8("echo:after")).Result(Long)), Is.EqualTo("after"), "the cluster goes on");
    }

    [Test]
    public void ATaskThatKillsItsWorkersFailsWithKilledWorkerAfterAllowedFailuresPlusOneAttempts()
    {
        var primary = Node(null, workers: 2);
        var executor = Executor(primary.Gateway, o => new ClusterExecutorOptions { Address = o.Address, AllowedFailures = 2 });
        var killer = executor.Submit(Utf8("exit:3"));
        var others = Enumerable.Range(0, 50).Select(i => executor.Submit(Utf8($"echo:{i}"))).ToList();
        var ex = killer.Exception(Long);
        Assert.That(ex, Is.TypeOf<KilledWorkerException>(), ex?.ToString());
        var killed = (KilledWorkerException)ex!;
        Assert.That(killed.Attempts, Is.EqualTo(3));
        Assert.That(killed.LastNode, Is.EqualTo(primary.NodeId));
        for (int i = 0; i < others.Count; i++)
        {
            Assert.That(Text(others[i].Result(Long)), Is.EqualTo($"{i}"));
        }
        Assert.That(executor.AttemptsLost, Is.EqualTo(3));
    }

    [Test]
    public void AnOversizedPayloadFailsOnlyItsFuture()
    {
        var primary = Node(null, workers: 1);
        var executor = Executor(primary.Gateway, o => new ClusterExecutorOptions { Address = o.Address, MaxPayload = 1024 });
        var before = executor.Submit(Utf8("echo:before"));
        var big = executor.Submit(Utf8("echo:" + new string('x', 2000)));
        Assert.That(big.Done(), Is.True, "failed at submit");
        Assert.That(big.Exception(TimeSpan.Zero), Is.TypeOf<PayloadTooLargeException>());
        var after = executor.Submit(Utf8("echo:" + new string('y', 1000)));
        Assert.That(Text(before.Result(Long)), Is.EqualTo("before"));
        Assert.That(Text(after.Result(Long)), Is.EqualTo(new string('y', 1000)));
        Assert.That(executor.AttemptsLost + executor.LostBeforeStart, Is.Zero);
    }

    [Test]
    public void SubmitBeforeAnyNodeIsUpCompletesOnceOneJoins()
    {
        int gatewayPort = NodeProcess.FreePort();
        var executor = Executor($"127.0.0.1:{gatewayPort}");
        var futures = Enumerable.Range(0, 20).Select(i => executor.Submit(Utf8($"echo:{i}"))).ToList();
        Assert.That(executor.Connected.IsCompleted, Is.False);
        Assert.That(futures.Any(f => f.Done()), Is.False);
        var node = NodeProcess.Launch(null, 2, gatewayPort);
        _nodes.Add(node);
        node.WaitStarted();
        for (int i = 0; i < futures.Count; i++)
        {
            Assert.That(Text(futures[i].Result(Long)), Is.EqualTo($"{i}"));
        }
    }

    [Test]
    public void ShutdownWithCancelFuturesCancelsTheQueuedTasks()
    {
        var executor = Executor($"127.0.0.1:{NodeProcess.FreePort()}"); // no node will come
        var futures = Enumerable.Range(0, 5).Select(i => executor.Submit(Utf8($"echo:{i}"))).ToList();
        Assert.That(executor.ShutdownAsync(cancelFutures: true).Wait(TimeSpan.FromSeconds(30)), Is.True, "shutdown returned");
        Assert.That(futures.All(f => f.Cancelled()), Is.True);
        Assert.Throws<InvalidOperationException>(() => executor.Submit(Utf8("echo:late")));
    }

    [Test]
    public void ANodeJoiningMidRunGetsWork()
    {
        var primary = Node(null, workers: 1);
        var executor = Executor(primary.Gateway);
        var futures = Enumerable.Range(0, 120).Select(_ => executor.Submit(Utf8("work:0.1"))).ToList();
        Assert.That(futures[0].Result(Long), Is.Not.Empty, "the first node runs tasks");
        var joiner = Node(primary, workers: 2);
        int remaining = futures.Count(f => !f.Done());
        Assert.That(remaining, Is.GreaterThanOrEqualTo(10), "work was left when the second node joined");
        var pids = futures.Select(f => int.Parse(Text(f.Result(Long)))).ToList();
        var joinerWorkers = joiner.WorkerPids();
        int onJoiner = pids.Count(joinerWorkers.Contains);
        TestContext.Out.WriteLine($"{onJoiner} of the {remaining} tasks left at its start ran on the node that joined");
        Assert.That(onJoiner, Is.GreaterThanOrEqualTo(remaining / 3), "the joiner (2 of 3 workers) got a fair share of the rest");
    }

    [Test]
    public void ATaskLongerThanTheResponseTimeoutCompletesInOneAttempt()
    {
        var primary = Node(null, workers: 1, "--response-timeout", "2");
        var executor = Executor(primary.Gateway, o => new ClusterExecutorOptions { Address = o.Address, ResponseTimeout = TimeSpan.FromSeconds(2) });
        var watch = Stopwatch.StartNew();
        var f = executor.Submit(Utf8("sleep:5"));
        Assert.That(Text(f.Result(Long)), Is.EqualTo("slept"));
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(12)), "one attempt, not several");
        Assert.That(executor.AttemptsLost + executor.LostBeforeStart + executor.LateResultsDropped, Is.Zero);
    }

    [Test]
    public void WhenThePrimaryDiesPendingFuturesFailClearlyInBoundedTime()
    {
        var primary = Node(null, workers: 1);
        var second = Node(primary, workers: 1);
        var executor = Executor(primary.Gateway);
        var futures = Enumerable.Range(0, 10).Select(_ => executor.Submit(Utf8("sleep:60"))).ToList();
        Assert.That(Eventually(() => futures.Count(f => f.Running()) >= 2, Long), Is.True, "both nodes took tasks");
        var watch = Stopwatch.StartNew();
        primary.Kill();
        foreach (var f in futures)
        {
            var ex = f.Exception(Long);
            Assert.That(ex, Is.TypeOf<ClusterUnavailableException>(), ex?.ToString());
        }
        TestContext.Out.WriteLine($"every future failed {watch.Elapsed.TotalSeconds:F1} s after the primary's death");
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(40)));
        Assert.That(executor.Broken, Is.Not.Null);
        Assert.Throws<ClusterUnavailableException>(() => executor.Submit(Utf8("echo:x")));
    }

    [Test]
    public void SigtermStopsANodeAndItsWorkers()
    {
        var primary = Node(null, workers: 2);
        var executor = Executor(primary.Gateway);
        Assert.That(executor.Submit(Utf8("echo:x")).Result(Long), Is.Not.Empty);
        var workers = primary.WorkerPids();
        Assert.That(workers, Is.Not.Empty);
        Assert.That(primary.Terminate(TimeSpan.FromSeconds(20)), Is.EqualTo(0), "exit code after SIGTERM:\n" + primary.Output);
        Assert.That(primary.Output, Does.Contain("node stopped"));
        Assert.That(Eventually(() => workers.All(p => !NodeProcess.IsAlive(p)), TimeSpan.FromSeconds(10)), Is.True, "its workers are gone");
    }

    [Test]
    public void TheEmbeddedNodeRunsTasksInProcess()
    {
        var worker = new ProcessPoolExecutorOptions
        {
            FileName = NodeProcess.Python.Value,
            Arguments = [Path.Combine(AppContext.BaseDirectory, "workers", "echo_worker.py")],
            MaxWorkers = 2,
        };
        var first = new ClusterExecutor(new ClusterExecutorOptions { LocalWorker = worker });
        _executors.Add(first);
        var second = new ClusterExecutor(new ClusterExecutorOptions { LocalWorker = worker });
        _executors.Add(second);
        var a = Enumerable.Range(0, 50).Select(i => first.Submit(Utf8($"echo:a{i}"))).ToList();
        var b = Enumerable.Range(0, 50).Select(i => second.Submit(Utf8($"echo:b{i}"))).ToList();
        for (int i = 0; i < 50; i++)
        {
            Assert.That(Text(a[i].Result(Long)), Is.EqualTo($"a{i}"));
            Assert.That(Text(b[i].Result(Long)), Is.EqualTo($"b{i}"));
        }
        var workerPids = Enumerable.Range(0, 4).Select(_ => first.Submit(Utf8("pid"))).Select(f => int.Parse(Text(f.Result(Long)))).ToHashSet();
        Assert.That(workerPids.All(p => NodeProcess.ChildrenOf(Environment.ProcessId).Contains(p)), Is.True, "workers are children of this process");
        first.Shutdown();
        second.Shutdown();
        Assert.That(Eventually(() => workerPids.All(p => !NodeProcess.IsAlive(p)), TimeSpan.FromSeconds(30)), Is.True,
            "the last embedded executor stops the node and its workers");
    }

    private NodeProcess Node(NodeProcess? seed, int workers, params string[] extra) =>
        Node(NodeProcess.Start(seed, workers, extra));

    private NodeProcess Node(NodeProcess node)
    {
        _nodes.Add(node);
        return node;
    }

    private ClusterExecutor Executor(string address, Func<ClusterExecutorOptions, ClusterExecutorOptions>? configure = null)
    {
        var options = new ClusterExecutorOptions { Address = address };
        var executor = new ClusterExecutor(configure?.Invoke(options) ?? options);
        _executors.Add(executor);
        return executor;
    }

    // Waits for a state of another process (no event to wait on), polling with a bound.
    private static bool Eventually(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            Thread.Sleep(50);
        }
        return true;
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);
}
