namespace Futures.Native.Tests;

/// <summary>Worker threads: started before Submit returns, joined through <see cref="WorkerThread"/>,
/// and their threads reused by later pools.</summary>
public class WorkerThreadTests
{
    [Test]
    public void ANewWorkerRunsWhenSubmitReturns()
    {
        using var gate = new ManualResetEventSlim();
        using var executor = new ThreadPoolExecutor(1, "Ready");
        var future = executor.Submit(() => gate.Wait(Waits.Long));
        var worker = executor.Threads.Single();
        Assert.That(worker.IsAlive, Is.True, "CPython's Thread.start() returns once the thread runs");
        Assert.That(worker.ManagedThreadId, Is.Not.Null);
        Assert.That(worker.Name, Is.EqualTo("Ready_0"));
        gate.Set();
        Assert.That(future.Result(Waits.Long), Is.True);
    }

    [Test]
    public void AnExitedWorkersThreadRunsTheNextPoolsWorkerUnderItsName()
    {
        using var first = new ThreadPoolExecutor(1, "First");
        Assert.That(first.Submit(() => 1).Result(Waits.Long), Is.EqualTo(1));
        first.Shutdown(wait: true);
        var exited = first.Threads.Single();
        Assert.That(exited.IsAlive, Is.False);
        Assert.That(exited.Join(TimeSpan.Zero), Is.True);

        using var second = new ThreadPoolExecutor(1, "Second");
        var (thread, name) = second.Submit(() => (Environment.CurrentManagedThreadId, Thread.CurrentThread.Name)).Result(Waits.Long);
        Assert.That(second.Threads.Single().OnParkedThread, Is.True, "the first worker's thread was parked before Shutdown returned");
        Assert.That(name, Is.EqualTo("Second_0"));
        Assert.That(second.Threads.Single().ManagedThreadId, Is.EqualTo(thread));
        Assert.That(exited.IsAlive, Is.False, "the first pool's worker stays exited while its thread runs another");
    }

    [Test]
    public void JoinWaitsForTheWorkerNotForItsThread()
    {
        using var gate = new ManualResetEventSlim();
        var executor = new ThreadPoolExecutor(2);
        var futures = Enumerable.Range(0, 2).Select(_ => executor.Submit(() => gate.Wait(Waits.Long))).ToList();
        var workers = executor.Threads.ToList();
        Assert.That(workers.All(w => !w.Join(TimeSpan.FromMilliseconds(20))), Is.True, "workers run until shutdown");
        executor.Shutdown(wait: false);
        gate.Set();
        Assert.That(workers.All(w => w.Join(Waits.Long)), Is.True, "joined once the workers exit, though their threads park");
        Assert.That(futures.All(f => f.Result(Waits.Long)), Is.True);
    }

    [Test]
    public void AWorkerThatCannotStartFailsTheSubmitAndLosesNothing()
    {
        bool refuse = true;
        var options = new ThreadPoolExecutorOptions
        {
            RunBlocking = start =>
            {
                if (refuse)
                {
                    throw new OutOfMemoryException("can't start new thread");
                }
                start();
            },
        };
        using var executor = new ThreadPoolExecutor(1, "Refused", options: options);
        int ran = 0;
        var ex = Assert.Throws<OutOfMemoryException>(() => executor.Submit(() => Interlocked.Increment(ref ran)));
        Assert.That(ex!.Message, Is.EqualTo("can't start new thread"));
        Assert.That(executor.Threads, Is.Empty, "as in CPython, a thread that did not start is not listed");

        refuse = false;
        Assert.That(executor.Submit(() => Volatile.Read(ref ran)).Result(Waits.Long), Is.EqualTo(0),
            "the refused call does not run later: its submit raised");
        Assert.That(executor.Threads.Single().Name, Is.EqualTo("Refused_0"));
        executor.Shutdown(wait: true);
        Assert.That(ran, Is.EqualTo(0));
    }

    [Test]
    public void AShutdownAfterAFailedStartDoesNotWaitForTheMissingWorker()
    {
        var options = new ThreadPoolExecutorOptions { RunBlocking = _ => throw new OutOfMemoryException() };
        using var executor = new ThreadPoolExecutor(2, options: options);
        Assert.Throws<OutOfMemoryException>(() => executor.Submit(() => 1));
        executor.Shutdown(wait: false);
        Assert.That(executor.Join(Waits.Join), Is.True);
    }

    [Test]
    public void ThePoolIsJoinedOnlyWhenEveryWorkerCountsAsExited()
    {
        using var ending = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        using var executor = new ThreadPoolExecutor(1); // disposed after the finally released its worker
        ParkedThreads.BeforeExited = () =>
        {
            ending.Set();
            release.Wait(Waits.Long);
        };
        try
        {
            Assert.That(executor.Submit(() => 1).Result(Waits.Long), Is.EqualTo(1));
            executor.Shutdown(wait: false);
            Assert.That(ending.Wait(Waits.Long), Is.True);
            // The worker's body has returned; its thread has not yet marked it exited.
            Assert.That(executor.Join(TimeSpan.FromMilliseconds(50)), Is.False,
                "Python's shutdown(wait=True) must not return while is_alive() is still true");
            Assert.That(executor.Threads.Single().IsAlive, Is.True);
            release.Set();
            Assert.That(executor.Join(Waits.Join), Is.True);
            Assert.That(executor.Threads.Single().IsAlive, Is.False);
        }
        finally
        {
            ParkedThreads.BeforeExited = null;
            release.Set();
        }
    }

    [Test]
    public void ALateShutdownInsideAWorkerDoesNotJoinItself()
    {
        using var executor = new ThreadPoolExecutor(1);
        var future = executor.Submit(() =>
        {
            executor.Shutdown(wait: true); // CPython: a worker joining its own pool skips itself
            return Thread.CurrentThread.Name;
        });
        Assert.That(future.Result(Waits.Long), Does.EndWith("_0"));
    }
}
