using CsFutures.Cluster.Client;
using CsFutures.Cluster.Contracts;
using CsFutures.Cluster.Dashboard;
using CsFutures.Processes;

namespace Futures.Cluster.Tests;

/// <summary>
/// The executor's watchdog (<c>CsFutures.Cluster.Watchdog</c>) driven in this process against a real
/// <c>TaskQueue</c> and scripted node reports, with short bounds.
/// </summary>
public sealed class WatchdogTests
{
    private static readonly TimeSpan Stall = TimeSpan.FromSeconds(1.5);
    private static readonly TimeSpan GiveUp = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan Orphan = TimeSpan.FromSeconds(1.5);

    [Test]
    public async Task QueuedWorkWithIdleNodesIsRegisteredAgainThenGivenUp()
    {
        var queue = new TaskQueue("watchdog-test", 3, TimeSpan.FromMilliseconds(50));
        var reports = new ScriptedReports { Reports = [new NodeStats("n1", 2, 2, 0, 0, 0, 0)] };
        int registrations = 0;
        var log = new List<string>();
        var watchdog = new Watchdog(queue, reports, () => { registrations++; return Task.CompletedTask; }, log.Add, Stall, GiveUp, Orphan);
        var item = new Item();
        queue.Enqueue(item);
        string? why = null;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (why is null && watch.Elapsed < TimeSpan.FromSeconds(20))
        {
            why = await watchdog.CheckAsync(CancellationToken.None);
            await Task.Delay(100);
        }
        Assert.That(registrations, Is.GreaterThanOrEqualTo(1), "it registered the executor again:\n" + string.Join("\n", log));
        Assert.That(log, Has.Some.Contains("registering the executor again").And.Some.Contains("idle node(s): n1 (0 of 2 workers busy)"));
        Assert.That(why, Does.Contain("the watchdog gave up"), "it gave up once the stall outlasted its bound");
        Assert.That(watch.Elapsed, Is.GreaterThan(Stall + GiveUp - TimeSpan.FromSeconds(1)));
        Assert.That(queue.WatchdogActions, Is.EqualTo(registrations + 1), "each action counted");
    }

    [Test]
    public async Task NoActionWhileNodesPullOrNoNodeIsIdle()
    {
        var queue = new TaskQueue("watchdog-test", 3, TimeSpan.FromMilliseconds(50));
        var reports = new ScriptedReports { Reports = [new NodeStats("n1", 2, 2, 2, 0, 0, 0)] };
        var watchdog = new Watchdog(queue, reports, () => Task.CompletedTask, _ => { }, Stall, GiveUp, Orphan);
        queue.Enqueue(new Item());
        for (int i = 0; i < 30; i++)
        {
            Assert.That(await watchdog.CheckAsync(CancellationToken.None), Is.Null);
            await Task.Delay(100); // every worker busy (another executor's tasks): no stall of ours
        }
        Assert.That(queue.WatchdogActions, Is.Zero);
    }

    [Test]
    public async Task TasksHeldByANodeThatReportsNoneGoBackToTheQueue()
    {
        var queue = new TaskQueue("watchdog-test", 3, TimeSpan.FromMilliseconds(50));
        var reports = new ScriptedReports { Reports = [new NodeStats("n1", 2, 2, 0, 5, 5, 0)] };
        var log = new List<string>();
        var watchdog = new Watchdog(queue, reports, () => Task.CompletedTask, log.Add, Stall, GiveUp, Orphan);
        var item = new Item();
        queue.Enqueue(item);
        var taken = await queue.Take("n1", 1);
        Assert.That(taken, Has.Length.EqualTo(1));
        await queue.Starting("n1", [taken![0].Id]);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (queue.InFlightCount > 0 && watch.Elapsed < TimeSpan.FromSeconds(20))
        {
            await watchdog.CheckAsync(CancellationToken.None);
            await Task.Delay(100);
        }
        Assert.That(queue.InFlightCount, Is.Zero);
        Assert.That(queue.QueuedCount, Is.EqualTo(1), "back in the queue");
        Assert.That(queue.Reclaimed, Is.EqualTo(1));
        Assert.That(queue.WatchdogActions, Is.EqualTo(1));
        Assert.That(log, Has.Some.Contains("node n1 has reported no busy worker"));
        // The node's late result is dropped; the task runs again and completes once.
        await queue.Completed("n1", [new TaskResult(taken[0].Id, TaskOutcome.Ok, [1], null)]);
        Assert.That(queue.LateResultsDropped, Is.EqualTo(1));
        var again = await queue.Take("n2", 1);
        await queue.Completed("n2", [new TaskResult(again![0].Id, TaskOutcome.Ok, [2], null)]);
        Assert.That(item.Typed.Result(TimeSpan.FromSeconds(5)), Is.EqualTo(new byte[] { 2 }));
    }

    private sealed class Item : ProcessWorkItem
    {
        public Item()
            : base(new byte[] { 1, 2, 3 }, null)
        {
        }

        public Future<byte[]> Typed { get; } = new();

        public override Future Future => Typed;

        public override void Complete(bool succeeded, byte[] reply)
        {
            if (succeeded)
            {
                Typed.SetResult(reply);
            }
            else
            {
                Typed.SetException(new InvalidOperationException("error reply"));
            }
        }
    }

    private sealed class ScriptedReports : INodeStatsGrain
    {
        public NodeStats[] Reports { get; set; } = [];

        public Task Report(NodeStats stats) => Task.CompletedTask;

        public Task<NodeStats[]> List() => Task.FromResult(Reports);
    }
}
