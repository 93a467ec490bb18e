using CsFutures.Interop.CPython;
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

    [Test]
    public void WorkersStartAsThePythonPackagesDoFromACopyOfTheSamePackage()
    {
        // The copy is python/_cs_futures_worker file for file, under the same name.
        string source = Path.Combine(RepositoryRoot(), "python", WorkerPackage.Name);
        using var host = new PythonWorkerHost(WorkerPackage.Extract(), ownsPackage: true,
            pythonExecutable: null, initializer: null, initializerArguments: []);
        string copy = Path.Combine(host.Arguments[1].Split('\'')[1], WorkerPackage.Name);
        var expected = Directory.GetFiles(source, "*.py").Select(Path.GetFileName).Order().ToList();
        Assert.That(Directory.GetFiles(copy).Select(Path.GetFileName).Order().ToList(), Is.EqualTo(expected));
        Assert.That(expected, Does.Contain("__main__.py").And.Contain("__init__.py"));
        foreach (string file in expected!)
        {
            Assert.That(File.ReadAllBytes(Path.Combine(copy, file!)), Is.EqualTo(File.ReadAllBytes(Path.Combine(source, file!))), file);
        }

        // The command line is the package's own bootstrap (_cs_futures_worker.worker_arguments), as
        // cs_futures.process builds it for the Python package's pool.
        using (Gil.Acquire())
        {
            using var scope = new PyDict();
            scope["folder"] = new PyString(Path.GetDirectoryName(copy)!);
            PythonEngine.Exec("import _cs_futures_worker\nexpected = _cs_futures_worker.worker_arguments(folder=folder)\n", scope);
            Assert.That(host.Arguments, Is.EqualTo(scope.GetItem("expected").As<string[]>()));
        }
        Assert.That(host.Arguments[0], Is.EqualTo("-c"));

        // A worker of a .NET host loads the worker package through its __main__, and never cs_futures or .NET.
        using var pool = NewPool(new PythonProcessPoolOptions { MaxWorkers = 1 });
        Assert.That(pool.SubmitPython<string>(Fn("worker_modules")).Result(Timeout), Is.EqualTo(
            "_cs_futures_worker,_cs_futures_worker.__main__,_cs_futures_worker._serialize,_cs_futures_worker._worker"));
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Futures.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("the repository root (Futures.sln) is not above the test directory");
    }
}
