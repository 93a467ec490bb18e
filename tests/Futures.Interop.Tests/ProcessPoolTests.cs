using CsFutures.Interop.Processes;
using Python.Runtime;
using CsFutures.Interop.Runtime;

namespace CsFutures.Interop.Tests;

/// <summary>Python callables on worker processes, from a .NET host (real CPython, real processes).</summary>
public sealed class ProcessPoolTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static PyObject Fn(string name) => PythonFixture.Runtime.GetCallable(PythonFixture.TestModule, name);

    private static PythonProcessPoolExecutor NewPool(PythonProcessPoolOptions? options = null) =>
        new(PythonFixture.Runtime, options ?? new PythonProcessPoolOptions { MaxWorkers = 2 });

    [Test]
    public void RunsPythonCallablesInOtherProcesses()
    {
        using var pool = NewPool();
        Assert.That(pool.SubmitPython<long>(Fn("add"), 2, 3).Result(Timeout), Is.EqualTo(5));
        Assert.That(pool.SubmitPython<string>(Fn("add"), "ab", "cd").Result(Timeout), Is.EqualTo("abcd"));
        Assert.That(pool.SubmitPython<int>(Fn("pid")).Result(Timeout), Is.Not.EqualTo(Environment.ProcessId));
        Assert.That(pool.MapPython<int, long>(Fn("square"), Enumerable.Range(0, 20)).ToList(),
            Is.EqualTo(Enumerable.Range(0, 20).Select(i => (long)i * i)));
    }

    [Test]
    public void CpuBoundWorkRunsInParallelInSeveralProcesses()
    {
        using var pool = NewPool();
        var busy = Fn("busy_pid");
        var futures = Enumerable.Range(0, 2).Select(_ => pool.SubmitPython<int>(busy, 0.5)).ToList();
        var pids = futures.Select(f => f.Result(Timeout)).ToHashSet();
        Assert.That(pids, Has.Count.EqualTo(2), "two tasks that hold the GIL ran in two worker processes");
        Assert.That(pool.Engine.Workers.Select(w => w.Pid), Is.EquivalentTo(pids));
    }

    [Test]
    public void PythonExceptionCarriesTheWorkersTraceback()
    {
        using var pool = NewPool();
        var f = pool.SubmitPython<object?>(Fn("fail"), "boom");
        var ex = Assert.Throws<PythonRaisedException>(() => f.Result(Timeout))!;
        Assert.That(ex.PythonType, Is.EqualTo("ValueError"));
        Assert.That(ex.PythonMessage, Is.EqualTo("boom"));
        Assert.That(ex.PythonTraceback, Does.Contain("raise ValueError(message)"), "the remote traceback is the cause");
        Assert.That(pool.SubmitPython<long>(Fn("add"), 1, 1).Result(Timeout), Is.EqualTo(2), "the pool still works");
    }

    [Test]
    public void DeadWorkerBreaksThePoolWithItsExitCode()
    {
        using var pool = NewPool();
        var f = pool.SubmitPython<object?>(Fn("crash"));
        var ex = Assert.Throws<BrokenProcessPoolException>(() => f.Result(Timeout))!;
        Assert.That(ex.ExitCode, Is.EqualTo(7));
        Assert.Throws<BrokenProcessPoolException>(() => pool.SubmitPython<long>(Fn("add"), 1, 1));
    }

    [Test]
    public void TaskTimeoutKillsOnlyTheStuckWorker()
    {
        using var pool = NewPool(new PythonProcessPoolOptions { MaxWorkers = 1 });
        int first = pool.SubmitPython<int>(Fn("pid")).Result(Timeout);
        var stuck = pool.SubmitPython<object?>(TimeSpan.FromSeconds(0.5), Fn("sleep_then"), 60, "late");
        Assert.Throws<TimeoutException>(() => stuck.Result(Timeout));
        int second = pool.SubmitPython<int>(Fn("pid")).Result(Timeout);
        Assert.That(second, Is.Not.EqualTo(first), "a new worker replaced the killed one");
        Assert.That(pool.Engine.Broken, Is.Null);
    }

    [Test]
    public void InitializerRunsInEachWorker()
    {
        var options = new PythonProcessPoolOptions
        {
            MaxWorkers = 1,
            Initializer = Fn("set_greeting"),
            InitializerArguments = ["hello from the initializer"],
        };
        using var pool = NewPool(options);
        Assert.That(pool.SubmitPython<string>(Fn("greeting")).Result(Timeout), Is.EqualTo("hello from the initializer"));
    }
}
