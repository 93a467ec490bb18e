using CsFutures.Interop.Hosting;
using CsFutures.Interop.Interpreters;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Python.Runtime;
using CsFutures.Interop.Runtime;

namespace CsFutures.Interop.Tests;

/// <summary>
/// Python callables on isolated subinterpreters from a .NET host (<see cref="PythonInterpreterPoolExecutor"/>).
/// The suite's host interpreter is CPython 3.11 by default, where the pool must refuse with a clear
/// error; test.sh runs this class again with a CPython 3.13 host (<c>PYTHONNET_PYDLL</c>), where the
/// pool runs.
/// </summary>
[Category("InterpreterPool")]
public sealed class InterpreterPoolTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static bool Supported => Version.Parse(PythonFixture.Runtime.Version.Split(' ')[0].Split('.')[0] + "."
        + PythonFixture.Runtime.Version.Split(' ')[0].Split('.')[1]) >= new Version(3, 12);

    private static PyObject Fn(string name) => PythonFixture.Runtime.GetCallable(PythonFixture.TestModule, name);

    private static PythonInterpreterPoolExecutor NewPool(PythonInterpreterPoolOptions? options = null) =>
        new(PythonFixture.Runtime, options ?? new PythonInterpreterPoolOptions { MaxWorkers = 2 });

    [Test]
    public void RefusesBefore312WithAClearError()
    {
        if (Supported)
        {
            using var pool = NewPool();
            Assert.That(pool.SubmitPython<long>(Fn("add"), 1, 2).Result(Timeout), Is.EqualTo(3));
            return;
        }
        var ex = Assert.Throws<NotSupportedException>(() => NewPool())!;
        Assert.That(ex.Message, Does.Contain("3.12 or newer").And.Contain("PythonProcessPoolExecutor"));
    }

    [Test]
    public void RunsCallablesInOtherInterpretersWithConversions()
    {
        if (!Supported)
        {
            Assert.Throws<NotSupportedException>(() => NewPool());
            return;
        }
        using var pool = NewPool();
        Assert.That(pool.SubmitPython<long>(Fn("add"), 2, 3).Result(Timeout), Is.EqualTo(5));
        Assert.That(pool.SubmitPython<string>(Fn("add"), "ab", "cd").Result(Timeout), Is.EqualTo("abcd"));
        Assert.That(pool.SubmitPython<List<long>>(Fn("make"), "list").Result(Timeout), Is.EqualTo(new long[] { 1, 2, 3 }));
        Assert.That(pool.SubmitPython<Dictionary<string, long>>(Fn("make"), "dict").Result(Timeout)["b"], Is.EqualTo(2));
        Assert.That(pool.MapPython<int, long>(Fn("spin"), Enumerable.Range(0, 20)).ToList(),
            Is.EqualTo(Enumerable.Range(0, 20).Select(i => (long)i * (i - 1) / 2)));
        long mainId;
        using (Py.GIL())
        {
            mainId = Fn("interpreter_id").Invoke().As<long>();
        }
        var ids = Enumerable.Range(0, 8).Select(_ => pool.SubmitPython<long>(Fn("interpreter_id"))).Select(f => f.Result(Timeout)).ToHashSet();
        Assert.That(ids, Does.Not.Contain(mainId));
        Assert.That(ids.Count, Is.InRange(1, 2));
        Assert.That(pool.Engine.Threads.Select(t => t.Name), Has.All.Not.Null);
    }

    [Test]
    public void ExceptionsCarryTheInterpretersTracebackAndSinglePhaseModulesAreRefusedClearly()
    {
        if (!Supported)
        {
            Assert.Throws<NotSupportedException>(() => NewPool());
            return;
        }
        using var pool = NewPool();
        var ex = Assert.Throws<PythonRaisedException>(() => pool.SubmitPython<object?>(Fn("fail"), "boom").Result(Timeout))!;
        Assert.That(ex.PythonType, Is.EqualTo("ValueError"));
        Assert.That(ex.PythonMessage, Is.EqualTo("boom"));
        Assert.That(ex.PythonTraceback, Does.Contain("Uncaught in the interpreter").And.Contain("raise ValueError(message)"));
        var import = Assert.Throws<PythonRaisedException>(() => pool.SubmitPython<string>(Fn("import_single_phase")).Result(Timeout))!;
        Assert.That(import.PythonType, Is.EqualTo("ImportError"));
        Assert.That(import.PythonMessage, Does.Contain("_testsinglephase").And.Contain("ProcessPoolExecutor"));
        Assert.That(pool.SubmitPython<long>(Fn("add"), 1, 1).Result(Timeout), Is.EqualTo(2), "the pool still works");
    }

    [Test]
    public void InitializerRunsInEachInterpreterAndItsFailureBreaksThePool()
    {
        if (!Supported)
        {
            Assert.Throws<NotSupportedException>(() => NewPool());
            return;
        }
        using (var pool = NewPool(new PythonInterpreterPoolOptions
        {
            MaxWorkers = 1, Initializer = Fn("init_interpreter"), InitializerArguments = ["ready"],
        }))
        {
            Assert.That(pool.SubmitPython<List<string>>(Fn("initialized")).Result(Timeout), Is.EqualTo(new[] { "ready" }));
        }
        using var broken = NewPool(new PythonInterpreterPoolOptions { MaxWorkers = 2, Initializer = Fn("init_fail") });
        var f = broken.SubmitPython<long>(Fn("add"), 1, 1);
        Assert.Throws<BrokenInterpreterPoolException>(() => f.Result(Timeout));
        Assert.That(broken.Engine.Broken, Is.Not.Null);
        Assert.Throws<BrokenInterpreterPoolException>(() => broken.SubmitPython<long>(Fn("add"), 1, 1));
    }

    [Test]
    public void ThousandsOfTasksAndManyPoolsKeepThreadsFlat()
    {
        if (!Supported)
        {
            Assert.Throws<NotSupportedException>(() => NewPool());
            return;
        }
        using (var warm = NewPool())
        {
            _ = warm.MapPython<int, long>(Fn("identity"), Enumerable.Range(0, 100)).ToList();
        }
        int threadsBefore = System.Diagnostics.Process.GetCurrentProcess().Threads.Count;
        using (var pool = NewPool())
        {
            Assert.That(pool.MapPython<int, long>(Fn("identity"), Enumerable.Range(0, 10_000), Timeout).Sum(),
                Is.EqualTo(Enumerable.Range(0, 10_000).Sum(i => (long)i)));
        }
        for (int i = 0; i < 30; i++)
        {
            using var pool = NewPool();
            Assert.That(pool.SubmitPython<long>(Fn("add"), i, 1).Result(Timeout), Is.EqualTo(i + 1));
        }
        int threadsAfter = System.Diagnostics.Process.GetCurrentProcess().Threads.Count;
        Assert.That(threadsAfter - threadsBefore, Is.LessThanOrEqualTo(4));
    }

    [Test]
    public async Task RegistersNamedInterpreterPoolsBoundFromConfiguration()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["InterpreterPools:par:MaxWorkers"] = "2",
            ["InterpreterPools:par:ThreadNamePrefix"] = "par",
        });
        builder.Services.AddPythonRuntime(builder.Configuration.GetSection("Python"));
        builder.Services.AddPythonInterpreterPool("par", builder.Configuration.GetSection("InterpreterPools:par"));
        var host = builder.Build();
        await host.StartAsync();
        if (!Supported)
        {
            Assert.Throws<NotSupportedException>(() => host.Services.GetRequiredKeyedService<PythonInterpreterPoolExecutor>("par"));
            await host.StopAsync();
            host.Dispose();
            return;
        }
        var pool = host.Services.GetRequiredKeyedService<PythonInterpreterPoolExecutor>("par");
        Assert.That(pool.Engine.MaxWorkers, Is.EqualTo(2));
        Assert.That(pool.SubmitPython<long>(Fn("add"), 20, 22).Result(Timeout), Is.EqualTo(42));
        Assert.That(pool.Engine.Threads.Select(t => t.Name), Has.All.StartWith("par"));
        await host.StopAsync();
        host.Dispose();
        Assert.That(pool.Engine.IsShutdown, "disposing the host shuts the pool down");
    }
}
