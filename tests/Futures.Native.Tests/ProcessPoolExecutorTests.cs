using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using CsFutures.Processes;

namespace Futures.Native.Tests;

/// <summary>
/// The process pool against a real worker program: <c>workers/echo_worker.py</c> (run by python3 from
/// PATH) speaks the <see cref="WorkerProtocol"/> and understands a few commands (see its docstring).
/// </summary>
public class ProcessPoolExecutorTests
{
    internal static readonly Lazy<string> s_python = new(FindPython);

    // ---- results and errors ----

    [Test]
    public void ResultRoundTrips()
    {
        var pool = NewPool();
        try
        {
            Assert.That(Run(pool, "echo:hello, worker"), Is.EqualTo("hello, worker"));
            Assert.That(Run(pool, "echo:"), Is.EqualTo(""), "an empty reply");
            Assert.That(Run(pool, "echo:héllo ☃"), Is.EqualTo("héllo ☃"), "bytes pass unchanged");
        }
        finally
        {
            Close(pool);
        }
    }

    [Test]
    public void ManyTasksOnTwoWorkersCompleteInTheirOwnFutures()
    {
        var pool = NewPool(maxWorkers: 2);
        try
        {
            var completed = new ConcurrentQueue<int>();
            using var callbacks = new CountdownEvent(41);
            // Task 0 holds one worker, so the others finish first, on the other worker.
            var slow = pool.Submit(Utf8("sleep:0.5"));
            slow.AddDoneCallback(_ => { completed.Enqueue(0); callbacks.Signal(); });
            var futures = new List<Future<byte[]>>();
            for (int i = 1; i <= 40; i++)
            {
                int index = i;
                var f = pool.Submit(Utf8($"echo:task {i}"));
                f.AddDoneCallback(_ => { completed.Enqueue(index); callbacks.Signal(); });
                futures.Add(f);
            }

            for (int i = 1; i <= 40; i++)
            {
                Assert.That(Text(futures[i - 1].Result(Waits.Long)), Is.EqualTo($"task {i}"));
            }
            Assert.That(Text(slow.Result(Waits.Long)), Is.EqualTo("slept"));
            Assert.That(callbacks.Wait(Waits.Join), Is.True, "every future's callback ran");
            Assert.That(completed.Order(), Is.EqualTo(Enumerable.Range(0, 41)));
            Assert.That(completed.First(), Is.Not.EqualTo(0), "the quick tasks completed before the sleeping one");
            Assert.That(pool.Workers, Has.Count.EqualTo(2));
        }
        finally
        {
            Close(pool);
        }
    }

    [Test]
    public void ErrorReplyFailsTheFutureWithItsPayload()
    {
        var pool = NewPool();
        try
        {
            var f = pool.Submit(Utf8("fail:boom ☃"));
            var ex = f.Exception(Waits.Long);
            Assert.That(ex, Is.TypeOf<WorkerTaskException>());
            Assert.That(Text(((WorkerTaskException)ex!).Payload), Is.EqualTo("boom ☃"));
            var thrown = Assert.Throws<WorkerTaskException>(() => f.Result(Waits.Long));
            Assert.That(thrown, Is.SameAs(ex), "Result rethrows the very exception");

            Assert.That(pool.Broken, Is.Null, "an error reply does not break the pool");
            Assert.That(Run(pool, "echo:after"), Is.EqualTo("after"));
        }
        finally
        {
            Close(pool);
        }
    }

    [Test]
    public void LargePayloadRoundTrips()
    {
        var pool = NewPool(maxWorkers: 1);
        try
        {
            var random = new Random(1234);
            var text = new StringBuilder(8 * 1024 * 1024);
            while (text.Length < 8 * 1024 * 1024)
            {
                text.Append((char)('a' + random.Next(26)));
            }
            string big = text.ToString();

            string reply = Text(pool.Submit(Utf8("echo:" + big)).Result(Waits.Long));
            Assert.That(reply.Length, Is.EqualTo(big.Length));
            Assert.That(reply == big, Is.True, "the 8 MB reply equals what was sent");
            Assert.That(Run(pool, "echo:small"), Is.EqualTo("small"), "the stream stays in step");
        }
        finally
        {
            Close(pool);
        }
    }

    // ---- worker lifecycle ----

    [Test]
    public void IdleWorkerIsReused()
    {
        var pool = NewPool(maxWorkers: 2);
        try
        {
            Assert.That(pool.Workers, Is.Empty, "no process before the first submit");
            var pids = new List<int>();
            for (int i = 0; i < 3; i++)
            {
                pids.Add(int.Parse(Run(pool, "pid")));
            }
            Assert.That(pids.Distinct(), Has.Exactly(1).Items, "one worker ran all three");
            Assert.That(pool.Workers.Select(w => w.Pid), Is.EqualTo(new[] { pids[0] }));
            Assert.That(pool.Workers[0].IsAlive, Is.True);
        }
        finally
        {
            Close(pool);
        }
    }

    [Test]
    public void MaxTasksPerChildReplacesTheWorker()
    {
        var pool = NewPool(maxWorkers: 2, maxTasksPerChild: 2);
        try
        {
            int first = int.Parse(Run(pool, "pid"));
            var retired = pool.Workers.Single();
            Assert.That(retired.Pid, Is.EqualTo(first));
            int second = int.Parse(Run(pool, "pid"));
            Assert.That(second, Is.EqualTo(first), "two tasks per child");

            int third = int.Parse(Run(pool, "pid"));
            Assert.That(third, Is.Not.EqualTo(first), "the third task runs in a fresh worker");
            Assert.That(pool.Workers, Has.Count.EqualTo(1));
            Assert.That(pool.Workers[0].Pid, Is.EqualTo(third));

            Assert.That(retired.Join(Waits.Join), Is.True, "the retired worker exits");
            Assert.That(retired.ExitCode, Is.EqualTo(0), "it was stopped, not killed");
            Assert.That(pool.Broken, Is.Null);
        }
        finally
        {
            Close(pool);
        }
    }

    [Test]
    public void ReplacementThatCannotStartBreaksThePoolInsteadOfLosingWork()
    {
        // The worker program goes away after the first worker started: its replacement (after
        // max_tasks_per_child) cannot start, and the queued task must fail rather than wait forever.
        string folder = Directory.CreateTempSubdirectory("csf-test-").FullName;
        string link = Path.Combine(folder, "python-link");
        File.CreateSymbolicLink(link, s_python.Value);
        string script = Path.Combine(TestContext.CurrentContext.TestDirectory, "workers", "echo_worker.py");
        var pool = new ProcessPoolExecutor(new ProcessPoolExecutorOptions
        {
            FileName = link,
            Arguments = [script],
            MaxWorkers = 1,
            MaxTasksPerChild = 1,
            StartTimeout = Waits.Long,
        });
        try
        {
            var first = pool.Submit(Utf8("sleep:0.2"));
            var queued = pool.Submit(Utf8("echo:never"));
            Directory.Delete(folder, recursive: true);

            Assert.That(Text(first.Result(Waits.Long)), Is.EqualTo("slept"));
            var ex = Assert.Throws<BrokenProcessPoolException>(() => queued.Result(Waits.Long))!;
            Assert.That(ex.Message, Does.Contain("could not be started"));
            Assert.That(pool.Broken, Is.Not.Null);
            Assert.Throws<BrokenProcessPoolException>(() => pool.Submit(Utf8("echo:after")));
        }
        finally
        {
            Close(pool);
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    [Test]
    public void WorkerLeavingAfterMaxTasksIsNotReplacedOnceReplacementsStopped()
    {
        // CPython 3.14 (gh-152967): the executor garbage collected, or being forcefully shut down.
        // Set before the first submit, so that the worker surely leaves after it.
        var pool = NewPool(maxWorkers: 1, maxTasksPerChild: 1);
        try
        {
            pool.StopReplacingWorkers(ProcessPoolExecutor.CollectedMessage);
            pool.StopReplacingWorkers(ProcessPoolExecutor.ForceShutdownMessage); // the first reason stays
            var first = pool.Submit(Utf8("echo:first"));
            var queued = new[] { pool.Submit(Utf8("echo:a")), pool.Submit(Utf8("echo:b")) };

            Assert.That(Text(first.Result(Waits.Long)), Is.EqualTo("first"));
            foreach (var future in queued)
            {
                var ex = Assert.Throws<BrokenProcessPoolException>(() => future.Result(Waits.Long))!;
                Assert.That(ex.Message, Is.EqualTo(ProcessPoolExecutor.CollectedMessage));
            }
            Assert.That(pool.Broken, Is.EqualTo(ProcessPoolExecutor.BrokenMessage));
            Assert.That(pool.Join(Waits.Join), Is.True, "a broken pool is shut down");
        }
        finally
        {
            Close(pool);
        }
    }

    [Test]
    public void InitializerPayloadReachesTheWorker()
    {
        var pool = NewPool(initializer: "setup ☃ 42");
        try
        {
            Assert.That(Run(pool, "init?"), Is.EqualTo("setup ☃ 42"));
        }
        finally
        {
            Close(pool);
        }
    }

    [Test]
    public void WorkerGetsTheEnvironmentAndTheSocketVariable()
    {
        var environment = Environment.GetEnvironmentVariables()
            .Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "");
        environment["CSF_TEST_VALUE"] = "from the test";
        var pool = NewPool(environment: environment);
        try
        {
            Assert.That(Run(pool, "env:CSF_TEST_VALUE"), Is.EqualTo("from the test"));
            Assert.That(Run(pool, "env:" + WorkerProtocol.SocketVariable), Does.EndWith(".sock"));
        }
        finally
        {
            Close(pool);
        }
    }

    [Test]
    public void WorkerCountNeverExceedsMaxWorkers()
    {
        var pool = NewPool(maxWorkers: 2);
        try
        {
            var futures = new List<Future<byte[]>>();
            for (int i = 0; i < 20; i++)
            {
                futures.Add(pool.Submit(Utf8("pid")));
                Assert.That(pool.Workers.Count, Is.LessThanOrEqualTo(2), $"after submit {i + 1}");
                Assert.That(pool.AllWorkers.Count, Is.LessThanOrEqualTo(2), $"after submit {i + 1}");
            }
            var pids = futures.Select(f => int.Parse(Text(f.Result(Waits.Long)))).ToHashSet();
            Assert.That(pids.Count, Is.InRange(1, 2));
            Assert.That(pool.Workers, Has.Count.EqualTo(2), "a backlog starts workers up to the limit");
            Assert.That(pids, Is.SubsetOf(pool.Workers.Select(w => w.Pid)));
        }
        finally
        {
            Close(pool);
        }
    }

    // ---- broken pools ----

    [Test]
    public void FailingInitializerBreaksThePool()
    {
        var pool = NewPool(initializer: "fail");
        try
        {
            var f = pool.Submit(Utf8("echo:never"));
            var ex = f.Exception(Waits.Long);
            Assert.That(ex, Is.TypeOf<BrokenProcessPoolException>());
            var broken = (BrokenProcessPoolException)ex!;
            Assert.That(broken.Detail, Does.Contain("initializer failed"));
            Assert.That(broken.ProcessId, Is.Not.Null);

            Assert.That(pool.Broken, Is.Not.Null);
            Assert.That(pool.IsShutdown, Is.True);
            Assert.Throws<BrokenProcessPoolException>(() => pool.Submit(Utf8("echo:later")));
            Assert.That(pool.Join(Waits.Join), Is.True, "the failed worker exits");
        }
        finally
        {
            Close(pool);
        }
    }

    [Test]
    public void WorkerExitBreaksThePoolAndFailsEveryPendingFuture()
    {
        var pool = NewPool(maxWorkers: 2);
        try
        {
            // Both workers are busy (one sleeps, one exits); the echoes wait in the queue.
            var sleeping = pool.Submit(Utf8("sleep:30"));
            var exiting = pool.Submit(Utf8("exit:3"));
            var queued = new[] { pool.Submit(Utf8("echo:a")), pool.Submit(Utf8("echo:b")) };
            var workers = pool.Workers;
            Assert.That(workers, Has.Count.EqualTo(2));

            var ex = queued[0].Exception(Waits.Long);
            Assert.That(ex, Is.TypeOf<BrokenProcessPoolException>());
            var broken = (BrokenProcessPoolException)ex!;
            Assert.That(broken.ExitCode, Is.EqualTo(3));
            Assert.That(broken.Message, Is.EqualTo(ProcessPoolExecutor.TerminatedAbruptlyMessage));
            Assert.That(broken.Detail, Does.Contain("terminated abruptly with exit code 3"));
            Assert.That(workers.Select(w => w.Pid), Has.Member(broken.ProcessId));
            Assert.That(pool.Broken, Is.EqualTo(ProcessPoolExecutor.BrokenMessage));
            Assert.Throws<BrokenProcessPoolException>(() => pool.Submit(Utf8("echo:later")));

            // The surviving worker is terminated, as CPython does.
            Assert.That(pool.Join(Waits.Join), Is.True);
            var exited = workers.Single(w => w.Pid == broken.ProcessId);
            var other = workers.Single(w => w.Pid != broken.ProcessId);
            Assert.That(exited.Join(Waits.Join) && other.Join(Waits.Join), Is.True);
            Assert.That(exited.ExitCode, Is.EqualTo(3));
            Assert.That(other.ExitCode, Is.EqualTo(128 + 15), "SIGTERM");

            Assert.That(queued[1].Exception(Waits.Join), Is.TypeOf<BrokenProcessPoolException>());
            Assert.That(sleeping.Exception(Waits.Join), Is.TypeOf<BrokenProcessPoolException>(),
                "the task running on the surviving worker");
            Assert.That(exiting.Wait(Waits.Join), Is.True, "the future of the task whose worker exited is never completed");
            Assert.That(exiting.Exception(TimeSpan.Zero), Is.SameAs(broken));
        }
        finally
        {
            Close(pool);
        }
    }

    [Test]
    public void CrashReportsTheSignal()
    {
        var logger = new CapturingLogger();
        var pool = NewPool(maxWorkers: 1, logger: logger);
        try
        {
            var crashing = pool.Submit(Utf8("crash"));
            var worker = pool.Workers.Single();
            Assert.That(worker.Join(Waits.Long), Is.True, "the worker does not end");
            Assert.That(worker.ExitCode, Is.EqualTo(128 + 11));
            Assert.That(pool.Join(Waits.Join), Is.True, "a broken pool is shut down");
            Assert.That(pool.Broken, Is.Not.Null);
            Assert.That(logger.Entries.Any(e => e.Level == LogLevel.Error && e.Message.Contains("SIGSEGV")), Is.True,
                "the crash is logged");

            Assert.That(crashing.Wait(Waits.Join), Is.True, "the future of the crashed task is never completed");
            var ex = crashing.Exception(TimeSpan.Zero);
            Assert.That(ex, Is.TypeOf<BrokenProcessPoolException>());
            var broken = (BrokenProcessPoolException)ex!;
            Assert.That(broken.ExitCode, Is.EqualTo(128 + 11));
            Assert.That(broken.ProcessId, Is.EqualTo(worker.Pid));
            Assert.That(broken.Detail, Does.Contain("SIGSEGV"));
        }
        finally
        {
            Close(pool);
        }
    }

    [Test]
    public void IsolateCrashesFailsOnlyTheCrashingTask()
    {
        var pool = NewPool(maxWorkers: 2, isolateCrashes: true);
        try
        {
            var before = Enumerable.Range(0, 5).Select(i => pool.Submit(Utf8($"echo:before {i}"))).ToList();
            var crashing = pool.Submit(Utf8("crash"));
            var after = Enumerable.Range(0, 5).Select(i => pool.Submit(Utf8($"echo:after {i}"))).ToList();

            var ex = crashing.Exception(Waits.Long);
            Assert.That(ex, Is.TypeOf<BrokenProcessPoolException>());
            Assert.That(((BrokenProcessPoolException)ex!).ExitCode, Is.EqualTo(128 + 11));
            for (int i = 0; i < 5; i++)
            {
                Assert.That(Text(before[i].Result(Waits.Long)), Is.EqualTo($"before {i}"));
                Assert.That(Text(after[i].Result(Waits.Long)), Is.EqualTo($"after {i}"));
            }

            Assert.That(pool.Broken, Is.Null);
            Assert.That(pool.IsShutdown, Is.False);
            Assert.That(Run(pool, "echo:later"), Is.EqualTo("later"), "a later submit runs");
            Assert.That(pool.Workers.Count, Is.InRange(1, 2));
        }
        finally
        {
            Close(pool);
        }
    }

    // ---- per-task timeouts ----

    [Test]
    public void TaskTimeoutFailsOnlyThatTaskAndReplacesItsWorker()
    {
        var pool = NewPool(maxWorkers: 1);
        try
        {
            int firstPid = int.Parse(Run(pool, "pid"));
            var stuck = pool.Submit(Utf8("sleep:30"), TimeSpan.FromMilliseconds(300));
            var next = pool.Submit(Utf8("pid")); // queued behind the stuck task

            var watch = Stopwatch.StartNew();
            var ex = stuck.Exception(Waits.Long);
            Assert.That(ex, Is.TypeOf<TimeoutException>());
            Assert.That(ex!.Message, Does.Contain("ran longer than"));
            Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(20)), "killed, not waited for");

            int nextPid = int.Parse(Text(next.Result(Waits.Long)));
            Assert.That(nextPid, Is.Not.EqualTo(firstPid), "the next task runs in a new worker");
            Assert.That(pool.Broken, Is.Null);
            Assert.That(pool.IsShutdown, Is.False);
            Assert.That(Run(pool, "echo:still fine"), Is.EqualTo("still fine"));
        }
        finally
        {
            Close(pool);
        }
    }

    [Test]
    public void PoolTaskTimeoutSparesTasksThatFinishInTime()
    {
        var pool = NewPool(maxWorkers: 2, taskTimeout: TimeSpan.FromMilliseconds(400));
        try
        {
            var stuck = pool.Submit(Utf8("sleep:30"));
            var quick = pool.Submit(Utf8("sleep:0.05"));
            var generous = pool.Submit(Utf8("sleep:0.05"), TimeSpan.FromSeconds(30));

            Assert.That(stuck.Exception(Waits.Long), Is.TypeOf<TimeoutException>());
            Assert.That(Text(quick.Result(Waits.Long)), Is.EqualTo("slept"));
            Assert.That(Text(generous.Result(Waits.Long)), Is.EqualTo("slept"));
            Assert.That(pool.Broken, Is.Null);
        }
        finally
        {
            Close(pool);
        }
    }

    // ---- shutdown ----

    [Test]
    public void ShutdownWaitsForRunningTasksAndWorkersExit()
    {
        var pool = NewPool(maxWorkers: 2);
        try
        {
            var futures = new[] { pool.Submit(Utf8("sleep:0.3")), pool.Submit(Utf8("sleep:0.3")) };
            var workers = pool.Workers;
            Assert.That(workers, Has.Count.EqualTo(2));

            pool.Shutdown(wait: true);

            Assert.That(futures.All(f => f.Done()), Is.True, "shutdown(wait) returned before the tasks finished");
            Assert.That(futures.Select(f => Text(f.Result(TimeSpan.Zero))), Is.All.EqualTo("slept"));
            Assert.That(pool.IsShutdown, Is.True);
            Assert.That(pool.Workers, Is.Empty);
            foreach (var w in workers)
            {
                Assert.That(w.IsAlive, Is.False, $"worker {w.Pid} is still alive after shutdown(wait)");
                Assert.That(w.ExitCode, Is.EqualTo(0), $"worker {w.Pid} stopped cleanly");
            }
            Assert.That(pool.Join(TimeSpan.Zero), Is.True);
        }
        finally
        {
            Close(pool);
        }
    }

    [Test]
    public void ShutdownWaitReturnsOnlyAfterFailedFuturesAndExitedWorkers()
    {
        // Once Shutdown(wait)/Join report the pool terminated, every future is done (CPython fails
        // them before joining the processes) and no worker still claims to be alive. The callback
        // observes the pool at the moment the dead worker's future is failed.
        var pool = NewPool(maxWorkers: 1, isolateCrashes: true);
        try
        {
            var crashing = pool.Submit(Utf8("crash"));
            var worker = pool.Workers.Single();
            bool joinedInCallback = true;
            bool aliveInCallback = true;
            using var callbackRan = new ManualResetEventSlim();
            crashing.AddDoneCallback(_ =>
            {
                joinedInCallback = pool.Join(TimeSpan.Zero);
                aliveInCallback = worker.IsAlive;
                callbackRan.Set();
            });

            pool.Shutdown(wait: true);
            bool doneAtReturn = crashing.Done();
            bool aliveAtReturn = worker.IsAlive;

            Assert.That(callbackRan.Wait(Waits.Join), Is.True, "the crashed task's future is never completed");
            Assert.Multiple(() =>
            {
                Assert.That(joinedInCallback, Is.False,
                    "Join() already returned true while the crashed task's future was still being failed");
                Assert.That(joinedInCallback && aliveInCallback, Is.False,
                    "Join() returned true while the crashed worker's IsAlive was still true");
                Assert.That(doneAtReturn, Is.True, "Shutdown(wait) returned before the crashed task's future was done");
                Assert.That(aliveAtReturn, Is.False, "Shutdown(wait) returned while the crashed worker's IsAlive was true");
            });
            Assert.That(crashing.Exception(TimeSpan.Zero), Is.TypeOf<BrokenProcessPoolException>());
            Assert.That(worker.ExitCode, Is.EqualTo(128 + 11));
        }
        finally
        {
            Close(pool);
        }
    }

    [Test]
    public void ShutdownWithCancelFuturesCancelsQueuedTasksOnly()
    {
        var pool = NewPool(maxWorkers: 1);
        try
        {
            var running = pool.Submit(Utf8("sleep:0.5"));
            Assert.That(SpinWait.SpinUntil(running.Running, Waits.Long), Is.True, "the first task never started");
            var queued = new[] { pool.Submit(Utf8("echo:a")), pool.Submit(Utf8("echo:b")) };
            Assert.That(pool.QueuedCount, Is.EqualTo(2));

            pool.Shutdown(wait: true, cancelFutures: true);

            Assert.That(queued.All(f => f.Cancelled()), Is.True, "queued futures are cancelled");
            Assert.Throws<CancelledException>(() => queued[0].Result(TimeSpan.Zero));
            Assert.That(Text(running.Result(TimeSpan.Zero)), Is.EqualTo("slept"), "the running task completes");
            Assert.That(pool.QueuedCount, Is.Zero);
        }
        finally
        {
            Close(pool);
        }
    }

    [Test]
    public void SubmitAfterShutdownThrows()
    {
        var pool = NewPool();
        try
        {
            Assert.That(Run(pool, "echo:x"), Is.EqualTo("x"));
            pool.Shutdown(wait: true);
            var ex = Assert.Throws<InvalidOperationException>(() => pool.Submit(Utf8("echo:y")));
            Assert.That(ex!.Message, Is.EqualTo("cannot schedule new futures after shutdown"));

            var unused = NewPool();
            unused.Shutdown(wait: true); // no worker ever started
            Assert.Throws<InvalidOperationException>(() => unused.Submit(Utf8("echo:y")));
            Assert.That(unused.Workers, Is.Empty);
        }
        finally
        {
            Close(pool);
        }
    }

    [Test]
    public async Task ShutdownAsyncCompletes()
    {
        var pool = NewPool();
        try
        {
            var f = pool.Submit(Utf8("sleep:0.2"));
            var workers = pool.Workers;
            await pool.ShutdownAsync().WaitAsync(Waits.Long);
            Assert.That(Text(f.Result(TimeSpan.Zero)), Is.EqualTo("slept"));
            Assert.That(pool.Workers, Is.Empty);
            foreach (var w in workers)
            {
                Assert.That(w.Join(Waits.Join), Is.True);
                Assert.That(w.ExitCode, Is.EqualTo(0));
            }
        }
        finally
        {
            Close(pool);
        }
    }

    [Test]
    public void KillWorkersFailsTheRunningTask()
    {
        var pool = NewPool(maxWorkers: 1);
        try
        {
            var running = pool.Submit(Utf8("sleep:30"));
            Assert.That(SpinWait.SpinUntil(running.Running, Waits.Long), Is.True, "the task never started");
            var queued = pool.Submit(Utf8("echo:never"));
            var worker = pool.Workers.Single();

            var watch = Stopwatch.StartNew();
            pool.KillWorkers();
            Assert.That(pool.Join(Waits.Join), Is.True, "Join returns once the killed worker is gone");
            Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(20)));

            Assert.That(queued.Cancelled(), Is.True, "queued futures are cancelled");
            Assert.That(worker.Join(Waits.Join), Is.True);
            Assert.That(worker.ExitCode, Is.EqualTo(128 + 9), "SIGKILL");

            Assert.That(running.Wait(Waits.Join), Is.True, "the future of the killed worker's task is never completed");
            Assert.That(running.Exception(TimeSpan.Zero), Is.TypeOf<BrokenProcessPoolException>());
            Assert.That(pool.IsShutdown, Is.True);
        }
        finally
        {
            Close(pool);
        }
    }

    // ---- spawning outside the lock (issue 12) ----

    [Test]
    public void SpawnRunsOutsideThePoolsLockThroughRunBlocking()
    {
        // The first spawn is held inside RunBlocking: meanwhile another thread's submit, a worker
        // count and a shutdown flag read must not wait for it (they would, were the spawn under the lock).
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        int calls = 0;
        var pool = NewPool(maxWorkers: 2, runBlocking: action =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                entered.Set();
                release.Wait(Waits.Long * 2); // longer than the checks below wait: a regression fails them
            }
            action();
        });
        try
        {
            Future<byte[]>? first = null;
            var submitter = new Thread(() => first = pool.Submit(Utf8("echo:first")));
            submitter.Start();
            Assert.That(entered.Wait(Waits.Long), Is.True, "the first submit spawns through RunBlocking");

            // Spawns the second worker; would wait for the first spawn were it under the lock.
            var submit = Task.Run(() => pool.Submit(Utf8("echo:second")));
            Assert.That(submit.Wait(Waits.Long), Is.True, "a submit does not wait behind another thread's spawn");
            Assert.That(Task.Run(() => pool.QueuedCount).Wait(Waits.Long), Is.True);
            Assert.That(Text(submit.Result.Result(Waits.Long)), Is.EqualTo("second"), "the second worker ran while the first spawn was held");

            release.Set();
            Assert.That(submitter.Join(Waits.Join), Is.True);
            Assert.That(Text(first!.Result(Waits.Long)), Is.EqualTo("first"));
            Assert.That(calls, Is.GreaterThanOrEqualTo(2), "every spawn went through RunBlocking");
        }
        finally
        {
            release.Set();
            Close(pool);
        }
    }

    [Test]
    public void SignalsGoThroughRunBlocking()
    {
        int calls = 0;
        var pool = NewPool(maxWorkers: 1, runBlocking: action =>
        {
            Interlocked.Increment(ref calls);
            action();
        });
        try
        {
            Assert.That(Run(pool, "echo:up"), Is.EqualTo("up"));
            int before = calls;
            var running = pool.Submit(Utf8("sleep:30"));
            pool.KillWorkers();
            Assert.That(pool.Join(Waits.Join), Is.True);
            Assert.That(calls, Is.GreaterThan(before), "the kill was sent through RunBlocking");
            Assert.That(running.Exception(Waits.Join), Is.TypeOf<BrokenProcessPoolException>());
        }
        finally
        {
            Close(pool);
        }
    }

    [Test]
    public void WorkerThatCannotStartAtSubmitBreaksThePoolAndFailsItsFuture()
    {
        var pool = new ProcessPoolExecutor(new ProcessPoolExecutorOptions
        {
            FileName = "/nonexistent/cs-futures-worker",
            MaxWorkers = 1,
        });
        try
        {
            var future = pool.Submit(Utf8("echo:never"));
            var ex = Assert.Throws<BrokenProcessPoolException>(() => future.Result(Waits.Long))!;
            Assert.That(ex.Message, Does.Contain("could not be started"));
            Assert.That(pool.Broken, Is.Not.Null);
            Assert.That(pool.Join(Waits.Join), Is.True, "a pool whose only worker never started is terminated");
        }
        finally
        {
            Close(pool);
        }
    }

    // ---- calls that cannot be serialized count as CPython counts them ----

    [Test]
    public void UnserializableCallsStartWorkersAsCPythonsSubmitDoes()
    {
        // CPython's test_saturation: 15 x max_workers calls that cannot be pickled leave
        // max_workers workers, started at submit.
        var pool = NewPool(maxWorkers: 3);
        try
        {
            for (int i = 0; i < 45; i++)
            {
                pool.NoteUnserializableCall();
            }
            Assert.That(pool.Workers, Has.Count.EqualTo(3));
            Assert.That(Run(pool, "echo:still works"), Is.EqualTo("still works"));
        }
        finally
        {
            Close(pool);
        }
    }

    [Test]
    public void UnserializableCallTakesAnIdleWorkersPlaceFirst()
    {
        var pool = NewPool(maxWorkers: 2);
        try
        {
            Assert.That(Run(pool, "echo:one"), Is.EqualTo("one"));
            Assert.That(pool.Workers, Has.Count.EqualTo(1));
            pool.NoteUnserializableCall();   // CPython: takes the idle worker's semaphore count
            Assert.That(pool.Workers, Has.Count.EqualTo(1));
            pool.NoteUnserializableCall();   // none idle left: a worker starts
            Assert.That(pool.Workers, Has.Count.EqualTo(2));
            pool.Shutdown(wait: false);
            Assert.Throws<InvalidOperationException>(pool.NoteUnserializableCall);
        }
        finally
        {
            Close(pool);
        }
    }

    // ---- helpers ----

    private static ProcessPoolExecutor NewPool(
        int maxWorkers = 2,
        int? maxTasksPerChild = null,
        string? initializer = null,
        bool isolateCrashes = false,
        TimeSpan? taskTimeout = null,
        IReadOnlyDictionary<string, string>? environment = null,
        ILogger? logger = null,
        Action<Action>? runBlocking = null)
    {
        string script = Path.Combine(TestContext.CurrentContext.TestDirectory, "workers", "echo_worker.py");
        Assert.That(File.Exists(script), Is.True, $"the worker script is missing: {script}");
        return new ProcessPoolExecutor(new ProcessPoolExecutorOptions
        {
            FileName = s_python.Value,
            Arguments = [script],
            MaxWorkers = maxWorkers,
            MaxTasksPerChild = maxTasksPerChild,
            Initializer = initializer is null ? default : Utf8(initializer),
            IsolateCrashes = isolateCrashes,
            TaskTimeout = taskTimeout,
            Environment = environment,
            StartTimeout = Waits.Long,
            Logger = logger,
            RunBlocking = runBlocking,
        });
    }

    /// <summary>Ends a pool whatever state a test left it in, without waiting for sleeping tasks.</summary>
    private static void Close(ProcessPoolExecutor pool)
    {
        pool.KillWorkers();
        pool.Join(Waits.Join);
    }

    private static string Run(ProcessPoolExecutor pool, string command) =>
        Text(pool.Submit(Utf8(command)).Result(Waits.Long));

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    /// <summary>python3 from PATH, resolved to the interpreter itself (a pyenv shim would add a shell
    /// script to every worker start).</summary>
    private static string FindPython()
    {
        string? found = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "python3"))
            .FirstOrDefault(File.Exists);
        if (found is null)
        {
            Assert.Fail("python3 was not found on PATH; the process pool tests need it to run their worker script");
        }
        var psi = new ProcessStartInfo(found!, ["-c", "import sys; print(sys.executable)"])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(psi)!;
        string executable = process.StandardOutput.ReadToEnd().Trim();
        Assert.That(process.WaitForExit(Waits.Long), Is.True, $"{found} did not answer");
        Assert.That(process.ExitCode, Is.Zero, $"{found} -c failed");
        return File.Exists(executable) ? executable : found!;
    }
}
