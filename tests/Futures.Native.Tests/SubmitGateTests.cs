namespace Futures.Native.Tests;

/// <summary>Submits to a pool whose workers are all started take no lock: each is counted from its
/// check of the shutdown flag to its enqueue, and shutdown waits for them. These hold a submit between
/// the two while the pool shuts down.</summary>
public class SubmitGateTests
{
    [Test]
    public void ShutdownWithCancelWaitsForASubmitPastItsCheckThenDrains()
    {
        using var held = HeldSubmit.Start();
        var shutdown = Task.Run(() => held.Executor.Shutdown(wait: false, cancelFutures: true));
        Assert.That(shutdown.Wait(TimeSpan.FromMilliseconds(200)), Is.False, "shutdown went on while a submit was past its check");
        var accepted = held.Release();
        Assert.That(shutdown.Wait(Waits.Long), Is.True);
        Assert.That(held.Executor.Join(Waits.Long), Is.True);
        // Queued before the drain: cancelled by it, or taken by a worker first, as in CPython; never lost.
        Assert.That(accepted.State, Is.AnyOf(FutureState.CancelledAndNotified, FutureState.Finished));
    }

    [Test]
    public void WorkersDoNotExitWhileASubmitIsPastItsCheck()
    {
        using var held = HeldSubmit.Start();
        var shutdown = Task.Run(() => held.Executor.Shutdown(wait: true));
        Assert.That(shutdown.Wait(TimeSpan.FromMilliseconds(200)), Is.False, "shutdown went on while a submit was past its check");
        var accepted = held.Release();
        Assert.That(shutdown.Wait(Waits.Long), Is.True);
        Assert.That(accepted.Result(TimeSpan.Zero), Is.EqualTo(1), "a worker ran the item queued as the pool shut down");
    }

    [Test]
    public void AWorkerThatSeesShutdownDuringASubmitPastItsCheckStaysForItsItem()
    {
        // The one worker is awake (finishing a task) when it first sees the shutdown flag, while a
        // submit is held past its check: it must wait for that item instead of exiting.
        using var held = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        using var finishTask = new ManualResetEventSlim();
        var gate = new Gate();
        var executor = new ThreadPoolExecutor(1, options: GateOptions(gate, held, release));
        var busy = executor.Submit(() => finishTask.Wait(Waits.Long));
        gate.Hold = true;
        Future<int>? accepted = null;
        var submitter = Waits.Start(() => accepted = executor.Submit(() => 1), "submitter");
        Assert.That(held.Wait(Waits.Long), Is.True);
        gate.Hold = false;
        var shutdown = Task.Run(() => executor.Shutdown(wait: false));
        Assert.That(SpinWait.SpinUntil(() => executor.IsShutdown, Waits.Long), Is.True);
        finishTask.Set();
        Assert.That(busy.Result(Waits.Long), Is.True);
        // The worker now either sleeps, waiting for the item, or (wrongly) exits.
        Assert.That(SpinWait.SpinUntil(() => executor.SleepingWorkers == 1 || executor.Join(TimeSpan.Zero), Waits.Long), Is.True);
        release.Set();
        Assert.That(submitter.Join(Waits.Join) && shutdown.Wait(Waits.Long), Is.True);
        Assert.That(accepted!.Result(Waits.Long), Is.EqualTo(1), "the item queued as the pool shut down ran");
        Assert.That(executor.Join(Waits.Long), Is.True);
    }

    [Test]
    public void ASubmitAfterShutdownIsRefusedWithoutTheLock()
    {
        using var held = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var (executor, gate) = FullPool(held, release);
        gate.Hold = false;
        executor.Shutdown(wait: true);
        var error = Assert.Throws<InvalidOperationException>(() => executor.Submit(() => 1));
        Assert.That(error!.Message, Is.EqualTo("cannot schedule new futures after shutdown"));
        Assert.That(executor.Stats().Submitted, Is.EqualTo(2), "the refused submit is not counted");
    }

    private sealed class Gate
    {
        public volatile bool Hold;
    }

    /// <summary>A pool of two workers, both started, whose next lock-free submit signals
    /// <paramref name="held"/> and waits for <paramref name="release"/> inside the gate while
    /// <see cref="Gate.Hold"/> is set.</summary>
    private static (ThreadPoolExecutor, Gate) FullPool(ManualResetEventSlim held, ManualResetEventSlim release)
    {
        var gate = new Gate();
        var executor = new ThreadPoolExecutor(2, options: GateOptions(gate, held, release));
        Waits.StartEveryWorker(executor, 2);
        gate.Hold = true;
        return (executor, gate);
    }

    /// <summary>A submit held inside the gate of a full pool of two workers, on its own thread.</summary>
    private sealed class HeldSubmit : IDisposable
    {
        private readonly ManualResetEventSlim _held = new();
        private readonly ManualResetEventSlim _release = new();
        private Thread? _submitter;
        private Future<int>? _accepted;

        public ThreadPoolExecutor Executor { get; private set; } = null!;

        public static HeldSubmit Start()
        {
            var held = new HeldSubmit();
            (held.Executor, var gate) = FullPool(held._held, held._release);
            held._submitter = Waits.Start(() => held._accepted = held.Executor.Submit(() => 1), "submitter");
            Assert.That(held._held.Wait(Waits.Long), Is.True, "the submit reached the gate");
            gate.Hold = false;
            return held;
        }

        /// <summary>Lets the submit go on; returns its future once it returned.</summary>
        public Future<int> Release()
        {
            _release.Set();
            Assert.That(_submitter!.Join(Waits.Join), Is.True);
            return _accepted!;
        }

        public void Dispose()
        {
            _release.Set();
            _held.Dispose();
            _release.Dispose();
        }
    }

    /// <summary>Options whose lock-free submits signal <paramref name="held"/> and wait for
    /// <paramref name="release"/> inside the gate while <see cref="Gate.Hold"/> is set.</summary>
    private static ThreadPoolExecutorOptions GateOptions(Gate gate, ManualResetEventSlim held, ManualResetEventSlim release) => new()
    {
        InsideSubmitGate = () =>
        {
            if (gate.Hold)
            {
                held.Set();
                release.Wait(Waits.Long);
            }
        },
    };
}
