using System.Runtime.CompilerServices;

namespace Futures.Native.Tests;

/// <summary>The futures of <c>Submit</c> and <c>Map</c> are their own work items (<see cref="IWorkItem"/>):
/// what the queue holds, what <see cref="ThreadPoolExecutorOptions.ItemStarting"/> sees, and how the
/// work (the delegate) is dropped once it ran or will never run (CPython: GH-60488).</summary>
public class WorkFutureTests
{
    [Test]
    public void ItemStartingSeesTheSubmittedFutureItselfAndABridgesWorkItem()
    {
        var seen = new List<IWorkItem>();
        var options = new ThreadPoolExecutorOptions
        {
            ItemStarting = item =>
            {
                lock (seen)
                {
                    seen.Add(item);
                }
            },
        };
        using var executor = new ThreadPoolExecutor(1, options: options);
        var submitted = executor.Submit(() => 1);
        var bridgeFuture = new Future<int>();
        var bridgeItem = new BridgeItem(bridgeFuture);
        executor.SubmitWorkItem(bridgeItem);
        var mapped = executor.Map(x => x * 2, new[] { 21 }).ToList();
        Assert.That(submitted.Result(Waits.Long) + bridgeFuture.Result(Waits.Long), Is.EqualTo(8));
        Assert.That(mapped, Is.EqualTo(new[] { 42 }));
        executor.Shutdown(wait: true);
        Assert.That(seen, Has.Count.EqualTo(3));
        Assert.That(seen[0], Is.SameAs(submitted), "the future is the work item");
        Assert.That(seen[0].Future, Is.SameAs(submitted));
        Assert.That(seen[1], Is.SameAs(bridgeItem), "a bridge's item is still its own object");
        Assert.That(seen[1].Future, Is.SameAs(bridgeFuture));
        Assert.That(seen[2], Is.InstanceOf<Future<int>>(), "a map item is its future");
    }

    [Test]
    public void ASubmittedFutureShowsAsAPlainFuture()
    {
        using var executor = new ThreadPoolExecutor(1);
        var f = executor.Submit(() => 42);
        f.Result(Waits.Long);
        Assert.That(f.ToString(), Does.Match("^<Future at 0x[0-9a-f]+ state=finished returned Int32>$"));
    }

    [Test]
    public void RunningAWorkFutureTwiceRunsTheWorkOnce()
    {
        int calls = 0;
        var item = new DelegateFuture<int>(() => Interlocked.Increment(ref calls));
        item.Run();
        Assert.DoesNotThrow(item.Run);
        Assert.That(item.Result(), Is.EqualTo(1));
        Assert.That(calls, Is.EqualTo(1));
    }

    [Test]
    public void ACancelledWorkFutureIsNotifiedAndNeverRuns()
    {
        bool ran = false;
        var item = new DelegateFuture<int>(() =>
        {
            ran = true;
            return 1;
        });
        Assert.That(item.Cancel(), Is.True);
        item.Run();
        Assert.That(item.State, Is.EqualTo(FutureState.CancelledAndNotified));
        Assert.That(ran, Is.False);
    }

    [Test]
    public void AWorkFutureThatRaisedHoldsTheExceptionAndRunDoesNotThrow()
    {
        var error = new FormatException("no");
        var item = new DelegateFuture<int>(() => throw error);
        Assert.DoesNotThrow(item.Run);
        Assert.That(item.Exception(), Is.SameAs(error));
    }

    [Test]
    public void ASubmittedFutureDropsItsClosureOnceRun()
    {
        using var executor = new ThreadPoolExecutor(1);
        var (future, captured) = SubmitCapturing(executor);
        Assert.That(future.Result(Waits.Long), Is.EqualTo(1));
        executor.Shutdown(wait: true); // the worker let go of the item
        Assert.That(Waits.Collected(captured), Is.True, "the future outlives its closure");
        GC.KeepAlive(future);
    }

    [Test]
    public void AFutureCancelledByShutdownDropsItsClosure()
    {
        using var gate = new ManualResetEventSlim();
        using var executor = new ThreadPoolExecutor(1);
        var blocker = executor.Submit(() => gate.Wait(Waits.Long));
        var (queued, captured) = SubmitCapturing(executor);
        executor.Shutdown(wait: false, cancelFutures: true);
        Assert.That(queued.State, Is.EqualTo(FutureState.CancelledAndNotified));
        Assert.That(Waits.Collected(captured), Is.True, "the cancelled future outlives its closure");
        gate.Set();
        Assert.That(blocker.Result(Waits.Long), Is.True);
        GC.KeepAlive(queued);
    }

    [Test]
    public void AFutureFailedByABrokenPoolDropsItsClosure()
    {
        using var gate = new ManualResetEventSlim();
        var executor = new ThreadPoolExecutor(1, initializer: () =>
        {
            gate.Wait(Waits.Long);
            throw new InvalidOperationException("init failed");
        }, options: new ThreadPoolExecutorOptions { Logger = new CapturingLogger() });
        var (queued, captured) = SubmitCapturing(executor);
        gate.Set();
        Assert.Throws<BrokenThreadPoolException>(() => queued.Result(Waits.Long));
        Assert.That(Waits.Collected(captured), Is.True, "the failed future outlives its closure");
        executor.Shutdown();
        GC.KeepAlive(queued);
    }

    [Test]
    public void ACancelledQueuedFutureNeverRunsAndIsNotified()
    {
        using var gate = new ManualResetEventSlim();
        using var executor = new ThreadPoolExecutor(1);
        var blocker = executor.Submit(() => gate.Wait(Waits.Long));
        bool ran = false;
        var queued = executor.Submit(() => ran = true);
        Assert.That(queued.Cancel(), Is.True);
        gate.Set();
        blocker.Result(Waits.Long);
        executor.Shutdown(wait: true);
        Assert.That(queued.State, Is.EqualTo(FutureState.CancelledAndNotified));
        Assert.That(ran, Is.False);
    }

    /// <summary>Submits a task whose closure holds an object; returns the future and a weak reference to
    /// that object (no local of the caller holds it).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (Future<int> Future, WeakReference Captured) SubmitCapturing(ThreadPoolExecutor executor)
    {
        var payload = new byte[100];
        var future = executor.Submit(() => payload.Length > 0 ? 1 : 0);
        return (future, new WeakReference(payload));
    }

    /// <summary>A bridge's work item: its future apart, as the Python bridge's.</summary>
    private sealed class BridgeItem(Future<int> future) : WorkItem
    {
        public override Future Future => future;

        public override void Run()
        {
            if (future.SetRunningOrNotifyCancel())
            {
                future.SetResult(7);
            }
        }
    }
}
