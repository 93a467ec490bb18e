using System.Diagnostics;
using CsFutures.Interop.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CsFutures.Interop.Tests;

public sealed class HostingTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>A host sharing the fixture's interpreter (it must outlive this host).</summary>
    private static IHost BuildHost(Dictionary<string, string?> settings, TimeSpan? shutdownTimeout = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddPythonRuntime(builder.Configuration.GetSection("Python"));
        builder.Services.AddExecutor("py", builder.Configuration.GetSection("Executors:py"));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = shutdownTimeout ?? Timeout);
        return builder.Build();
    }

    [Test]
    public async Task BindsOptionsAndInjectsExecutors()
    {
        using var host = BuildHost(new() { ["Executors:py:MaxWorkers"] = "3", ["Executors:py:ThreadNamePrefix"] = "worker" });
        await host.StartAsync();
        var byKey = host.Services.GetRequiredKeyedService<ThreadPoolExecutor>("py");
        Assert.That(byKey.MaxWorkers, Is.EqualTo(3));
        Assert.That(byKey.ThreadNamePrefix, Is.EqualTo("worker"));
        Assert.That(host.Services.GetRequiredKeyedService<Executor>("py"), Is.SameAs(byKey));
        Assert.That(host.Services.GetRequiredService<IExecutorProvider>().Get("py"), Is.SameAs(byKey));
        Assert.That(host.Services.GetRequiredService<PythonRuntime>(), Is.SameAs(PythonFixture.Runtime));
        var fn = PythonFixture.Runtime.GetCallable(PythonFixture.TestModule, "thread_name");
        Assert.That(byKey.SubmitPython<string>(fn).Result(Timeout), Does.StartWith("worker_"));
        Assert.That(byKey.Submit(() => Thread.CurrentThread.Name).Result(Timeout), Does.StartWith("worker_"));
        await host.StopAsync();
        Assert.That(byKey.IsShutdown);
        Assert.That(PythonFixture.Runtime.IsRunning, "the fixture still holds the interpreter");
    }

    [Test]
    public async Task RegistersNamedProcessPoolsBoundFromConfiguration()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ProcessPools:cpu:MaxWorkers"] = "1",
            ["ProcessPools:cpu:TaskTimeout"] = "00:00:30",
        });
        builder.Services.AddPythonRuntime(builder.Configuration.GetSection("Python"));
        builder.Services.AddPythonProcessPool("cpu", builder.Configuration.GetSection("ProcessPools:cpu"));
        var host = builder.Build();
        await host.StartAsync();
        var pool = host.Services.GetRequiredKeyedService<Processes.PythonProcessPoolExecutor>("cpu");
        Assert.That(pool.Engine.MaxWorkers, Is.EqualTo(1));
        var options = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<Processes.PythonProcessPoolOptions>>().Get("cpu");
        Assert.That(options.Logger, Is.Not.Null, "the host's concurrent.futures logger by default");
        Assert.That(host.Services.GetRequiredKeyedService<PythonPoolExecutor>("cpu"), Is.SameAs(pool), "also resolves as the shared base");
        Assert.That(pool.Name, Is.EqualTo("cpu"), "the registration name is the pool's name");
        var pid = PythonFixture.Runtime.GetCallable(PythonFixture.TestModule, "pid");
        Assert.That(pool.SubmitPython<int>(pid).Result(Timeout), Is.Not.EqualTo(Environment.ProcessId));
        var square = PythonFixture.Runtime.GetCallable(PythonFixture.TestModule, "square");
        Assert.That(pool.MapPython<long, long>(square, [3L, 4L], Timeout), Is.EqualTo(new long[] { 9, 16 }));
        await host.StopAsync();
        host.Dispose(); // disposes the pool under both of its service types: the second is a no-op
        var stats = pool.Stats(); // exact once the pool was shut down with wait
        Assert.That((stats.Name, stats.Submitted, stats.Completed), Is.EqualTo(("cpu", 3L, 3L)));
        Assert.That(pool.Engine.IsShutdown, "disposing the host shuts the pool down");
        Assert.That(pool.Engine.AllWorkers, Is.Empty, "and waits for its workers");
    }

    [Test]
    public async Task StopDrainsPendingWork()
    {
        using var host = BuildHost(new() { ["Executors:py:MaxWorkers"] = "1" });
        await host.StartAsync();
        var executor = host.Services.GetRequiredKeyedService<Executor>("py");
        var sleep = PythonFixture.Runtime.GetCallable(PythonFixture.TestModule, "sleep_then");
        var futures = Enumerable.Range(0, 5).Select(i => executor.SubmitPython<long>(sleep, 0.05, i)).ToList();
        await host.StopAsync();
        Assert.That(futures.Select(f => f.Result(TimeSpan.Zero)), Is.EqualTo(new long[] { 0, 1, 2, 3, 4 }));
        Assert.Throws<InvalidOperationException>(() => executor.SubmitPython<long>(sleep, 0.0, 1));
    }

    [Test]
    public async Task StopCancelsPendingWorkWhenConfigured()
    {
        using var host = BuildHost(new() { ["Executors:py:MaxWorkers"] = "1", ["Executors:py:CancelPendingOnStop"] = "true" });
        await host.StartAsync();
        var executor = host.Services.GetRequiredKeyedService<Executor>("py");
        var sleep = PythonFixture.Runtime.GetCallable(PythonFixture.TestModule, "sleep_then");
        var running = executor.SubmitPython<string>(sleep, 0.3, "ran");
        while (!running.Running())
        {
            Thread.Sleep(1);
        }
        var pending = Enumerable.Range(0, 5).Select(i => executor.SubmitPython<string>(sleep, 0.0, "p")).ToList();
        await host.StopAsync();
        Assert.That(running.Result(TimeSpan.Zero), Is.EqualTo("ran"));
        Assert.That(pending.All(f => f.Cancelled()));
    }

    [Test]
    public async Task StopGivesUpAtTheShutdownTimeout()
    {
        using var host = BuildHost(new() { ["Executors:py:MaxWorkers"] = "1" }, shutdownTimeout: TimeSpan.FromMilliseconds(200));
        await host.StartAsync();
        var executor = host.Services.GetRequiredKeyedService<Executor>("py");
        var sleep = PythonFixture.Runtime.GetCallable(PythonFixture.TestModule, "sleep_then");
        var running = executor.SubmitPython<string>(sleep, 1.5, "slow");
        var pending = executor.SubmitPython<string>(sleep, 0.0, "never");
        var clock = Stopwatch.StartNew();
        await host.StopAsync();
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(1.2)));
        Assert.That(pending.Cancelled(), "pending work is cancelled when the timeout expires");
        Assert.That(running.Result(Timeout), Is.EqualTo("slow"), "running work still finishes");
    }
}
