namespace Futures.Native.Tests;

/// <summary>
/// <see cref="ThreadPoolExecutorOptions.MaxBacklog"/>: a submit that leaves too many items queued waits
/// until the workers drain half of them, through the <see cref="ThreadPoolExecutorOptions.RunBlocking"/>
/// hook, and never deadlocks: a stall of the workers, shutdown, and the pool's own workers end or skip
/// the wait.
/// </summary>
public class SubmitBacklogTests
{
    /// <summary>A one-worker pool; <paramref name="blocking"/> is set each time a submit enters the
    /// RunBlocking hook (a worker start or a backlog wait).</summary>
    private static ThreadPoolExecutor Pool(int maxBacklog, TimeSpan stall, ManualResetEventSlim? blocking = null) =>
        new(1, "Backlog", options: new ThreadPoolExecutorOptions
        {
            MaxBacklog = maxBacklog,
            BacklogStallTimeout = stall,
            RunBlocking = step =>
            {
                blocking?.Set();
                step();
            },
        });

    /// <summary>Fills the queue of a one-worker pool whose worker is held by <paramref name="gate"/>:
    /// one running item and <paramref name="queued"/> queued ones.</summary>
    private static List<Future<int>> Fill(ThreadPoolExecutor executor, ManualResetEventSlim gate, int queued)
    {
        using var running = new ManualResetEventSlim();
        var futures = new List<Future<int>>
        {
            executor.Submit(() =>
            {
                running.Set();
                gate.Wait(Waits.Long);
                return -1;
            }),
        };
        Assert.That(running.Wait(Waits.Long), Is.True);
        for (int i = 0; i < queued; i++)
        {
            int n = i;
            futures.Add(executor.Submit(() => n));
        }
        return futures;
    }

    [Test]
    public void ASubmitPastTheBacklogWaitsThroughTheHookUntilTheWorkersDrainHalf()
    {
        using var blocking = new ManualResetEventSlim();
        using var gate = new ManualResetEventSlim();
        using var executor = Pool(maxBacklog: 4, stall: Waits.Long, blocking);
        var futures = Fill(executor, gate, queued: 4);
        Assert.That(executor.BacklogWaits, Is.Zero, "up to MaxBacklog queued items, submits never wait");
        blocking.Reset(); // set by the worker's start

        var late = Task.Run(() => executor.Submit(() => 99));
        Assert.That(blocking.Wait(Waits.Long), Is.True, "the wait runs inside the RunBlocking hook (a bridge releases its lock there)");
        Assert.That(late.Wait(TimeSpan.FromMilliseconds(100)), Is.False, "5 queued > 4: the submit waits for the workers");
        Assert.That(executor.QueuedCount, Is.EqualTo(5), "its item is queued before it waits");
        gate.Set();
        Assert.That(late.Wait(Waits.Long), Is.True, "the worker drains the queue: the submit returns");
        Assert.That(late.Result.Result(Waits.Long), Is.EqualTo(99));
        Assert.That(futures.Select(f => f.Result(Waits.Long)), Is.EqualTo(new[] { -1, 0, 1, 2, 3 }));
        Assert.That(executor.BacklogWaits, Is.EqualTo(1));
    }

    [Test]
    public void WorkersThatStallEndTheWaitAndLaterSubmitsDoNotWaitUntilTheyProgress()
    {
        using var gate = new ManualResetEventSlim();
        using var executor = Pool(maxBacklog: 2, stall: TimeSpan.FromMilliseconds(20));
        var futures = Fill(executor, gate, queued: 3); // the 3rd queued item waited, then saw no progress
        Assert.That(executor.BacklogWaits, Is.EqualTo(1), "a worker that takes nothing (here: it waits for this thread) ends the wait");
        for (int i = 0; i < 100; i++)
        {
            futures.Add(executor.Submit(() => 0));
        }
        Assert.That(executor.BacklogWaits, Is.EqualTo(1), "after a stall, no submit waits again until a worker takes an item");
        gate.Set();
        Assert.That(futures.Count(f => f.Result(Waits.Long) >= -1), Is.EqualTo(104), "nothing is lost");
    }

    [Test]
    public void ShutdownEndsAWait()
    {
        using var blocking = new ManualResetEventSlim();
        using var gate = new ManualResetEventSlim();
        var executor = Pool(maxBacklog: 1, stall: Waits.Long, blocking);
        var futures = Fill(executor, gate, queued: 1);
        blocking.Reset();
        var late = Task.Run(() => executor.Submit(() => 7));
        Assert.That(blocking.Wait(Waits.Long), Is.True, "the submit is waiting");
        Assert.That(late.Wait(TimeSpan.FromMilliseconds(100)), Is.False);
        executor.Shutdown(wait: false, cancelFutures: true);
        Assert.That(late.Wait(Waits.Long), Is.True, "shutdown releases the waiting submit");
        Assert.That(late.Result.Cancelled(), Is.True, "its item was queued, so cancel_futures cancels it");
        gate.Set();
        Assert.That(futures[0].Result(Waits.Long), Is.EqualTo(-1));
        executor.Shutdown(wait: true);
    }

    [Test]
    public void APoolsOwnWorkerNeverWaits()
    {
        using var executor = Pool(maxBacklog: 2, stall: Waits.Long);
        // The only worker submits far past the backlog to its own pool: waiting for itself would
        // only end by the stall timeout (30 s here).
        var outer = executor.Submit(() => Enumerable.Range(0, 50).Select(i => executor.Submit(() => i)).ToList());
        // This thread is not the pool's: its submit may wait (once the worker has queued past the
        // backlog before the submit's own check), and has returned from any wait by now.
        int waitsBefore = executor.BacklogWaits;
        var inner = outer.Result(Waits.Long);
        Assert.That(inner.Select(f => f.Result(Waits.Long)), Is.EqualTo(Enumerable.Range(0, 50)));
        Assert.That(executor.BacklogWaits, Is.EqualTo(waitsBefore), "the worker's own submits never waited");
    }

    [Test]
    public void WithoutMaxBacklogSubmitsNeverWait()
    {
        using var gate = new ManualResetEventSlim();
        using var executor = new ThreadPoolExecutor(1);
        var futures = Fill(executor, gate, queued: 1000);
        Assert.That(executor.QueuedCount, Is.EqualTo(1000), "as CPython's queue: unbounded");
        Assert.That(executor.BacklogWaits, Is.Zero);
        gate.Set();
        Assert.That(futures.Last().Result(Waits.Long), Is.EqualTo(999));
    }
}
