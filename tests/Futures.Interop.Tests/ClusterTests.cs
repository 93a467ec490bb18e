using System.Diagnostics;
using CsFutures.Cluster;
using CsFutures.Interop.Cluster;
using CsFutures.Interop.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Python.Runtime;
using CsFutures.Interop.Runtime;

namespace CsFutures.Interop.Tests;

/// <summary>Python callables on the embedded cluster node's worker processes, from a .NET host (real
/// CPython, a real in-process Orleans node, real worker processes).</summary>
/// <remarks>Each test's executor starts the embedded node and stops it when it leaves: a node shared
/// by executors that come and go would keep pulling from the departed ones (see the final note of the
/// branch: each departed executor holds the node's free workers for up to 3 x 5 s).</remarks>
[NonParallelizable]
public sealed class ClusterTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static PyObject Fn(string name) => PythonFixture.Runtime.GetCallable(PythonFixture.TestModule, name);

    private static PythonClusterExecutor NewCluster(int allowedFailures = 3, int maxPayload = 64 * 1024 * 1024) =>
        new(PythonFixture.Runtime, new PythonClusterOptions { MaxWorkers = 2, AllowedFailures = allowedFailures, MaxPayload = maxPayload });

    [Test]
    public void RoundTripsResultsThroughSubmitAndMap()
    {
        using var cluster = NewCluster();
        Assert.That(cluster.SubmitPython<long>(Fn("add"), 2, 3).Result(Timeout), Is.EqualTo(5));
        Assert.That(cluster.SubmitPython<string>(Fn("add"), "ab", "cd").Result(Timeout), Is.EqualTo("abcd"));
        Assert.That(cluster.SubmitPython<int>(Fn("pid")).Result(Timeout), Is.Not.EqualTo(Environment.ProcessId));
        Assert.That(cluster.MapPython<int, long>(Fn("square"), Enumerable.Range(0, 20)).ToList(),
            Is.EqualTo(Enumerable.Range(0, 20).Select(i => (long)i * i)), "map keeps the input order");
    }

    [Test]
    public void PythonExceptionCarriesTheWorkersTraceback()
    {
        using var cluster = NewCluster();
        var f = cluster.SubmitPython<object?>(Fn("fail"), "boom");
        var ex = Assert.Throws<PythonRaisedException>(() => f.Result(Timeout))!;
        Assert.That(ex.PythonType, Is.EqualTo("ValueError"));
        Assert.That(ex.PythonMessage, Is.EqualTo("boom"));
        Assert.That(ex.PythonTraceback, Does.Contain("raise ValueError(message)"), "the remote traceback is the cause");
        Assert.That(cluster.SubmitPython<long>(Fn("add"), 1, 1).Result(Timeout), Is.EqualTo(2), "the executor still works");
    }

    [Test]
    public void TaskKillingItsWorkerFailsWithKilledWorkerWhileOthersSucceed()
    {
        using var cluster = NewCluster(allowedFailures: 1);
        var crash = cluster.SubmitPython<object?>(Fn("crash"));
        var others = Enumerable.Range(0, 6).Select(i => cluster.SubmitPython<long>(Fn("square"), i)).ToList();
        var ex = Assert.Throws<KilledWorkerException>(() => crash.Result(Timeout))!;
        Assert.That(ex.Attempts + ex.LostBeforeStart, Is.EqualTo(2), "AllowedFailures + 1 runs were lost");
        Assert.That(cluster.Engine.AttemptsLost, Is.EqualTo(2));
        Assert.That(others.Select(f => f.Result(Timeout)), Is.EqualTo(Enumerable.Range(0, 6).Select(i => (long)i * i)));
        Assert.That(cluster.SubmitPython<long>(Fn("add"), 1, 1).Result(Timeout), Is.EqualTo(2), "the executor still works");
    }

    [Test]
    public void OversizedPayloadFailsOnlyItsFuture()
    {
        using var cluster = NewCluster(maxPayload: 4096);
        var small = cluster.SubmitPython<long>(Fn("length"), new string('x', 100));
        var big = cluster.SubmitPython<long>(Fn("length"), new string('x', 10_000));
        var ex = Assert.Throws<PayloadTooLargeException>(() => big.Result(Timeout))!;
        Assert.That(ex.Limit, Is.EqualTo(4096));
        Assert.That(ex.Size, Is.GreaterThan(10_000));
        Assert.That(small.Result(Timeout), Is.EqualTo(100));
        Assert.That(cluster.SubmitPython<long>(Fn("length"), new string('x', 200)).Result(Timeout), Is.EqualTo(200));
    }

    [Test]
    public void PayloadsCarryTheClusterTagOfTheHostsPython()
    {
        using var host = new Processes.PythonWorkerHost(Processes.WorkerPackage.Extract(), ownsPackage: true,
            pythonExecutable: null, initializer: null, initializerArguments: [], dumpsName: "dumps_cluster");
        var item = host.WorkItem<long>(Fn("add"), [1, 2], timeout: null);
        var version = System.Version.Parse(string.Join('.', PythonFixture.Runtime.Version.Split('.').Take(2)));
        byte[] tag = [(byte)'C', (byte)'S', (byte)'F', (byte)version.Major, (byte)version.Minor];
        Assert.That(item.Payload.Span[..5].ToArray(), Is.EqualTo(tag), "b'CSF' + the host's (major, minor), as _worker.cluster_tag()");
    }

    [Test]
    public async Task AddPythonClusterResolvesFromConfiguration()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Clusters:local:MaxWorkers"] = "2",
            ["Clusters:local:AllowedFailures"] = "2",
            ["Clusters:local:MaxPayload"] = "1000000",
            ["Clusters:local:TaskTimeout"] = "00:00:30",
        });
        builder.Services.AddPythonRuntime(builder.Configuration.GetSection("Python"));
        builder.Services.AddPythonCluster("local", builder.Configuration.GetSection("Clusters:local"));
        var host = builder.Build();
        await host.StartAsync();
        var options = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<PythonClusterOptions>>().Get("local");
        Assert.That(options.AllowedFailures, Is.EqualTo(2));
        Assert.That(options.MaxPayload, Is.EqualTo(1_000_000));
        Assert.That(options.TaskTimeout, Is.EqualTo(TimeSpan.FromSeconds(30)));
        var cluster = host.Services.GetRequiredKeyedService<PythonClusterExecutor>("local");
        Assert.That(host.Services.GetRequiredKeyedService<PythonClusterExecutor>("local"), Is.SameAs(cluster));
        Assert.That(host.Services.GetRequiredKeyedService<PythonPoolExecutor>("local"), Is.SameAs(cluster), "also resolves as the shared base");
        Assert.That(cluster.Name, Is.EqualTo("local"), "the registration name is the executor's name");
        Assert.That(cluster.SubmitPython<long>(Fn("add"), 20, 22).Result(Timeout), Is.EqualTo(42));
        Assert.That(cluster.MapPython<long, long>(Fn("square"), [2L, 3L], Timeout), Is.EqualTo(new long[] { 4, 9 }));
        await host.StopAsync();
        host.Dispose();
        Assert.That(cluster.Engine.Stopped.IsCompleted, "disposing the host shuts the executor down and leaves the cluster");
        var stats = cluster.Stats(); // exact once the executor was shut down with wait
        Assert.That((stats.Name, stats.Submitted, stats.Completed, stats.Failed, stats.Cancelled, stats.Queued),
            Is.EqualTo(("local", 3L, 3L, 0L, 0L, 0L)), "the cluster's counts in the engine's terms");
        Assert.Throws<InvalidOperationException>(() => cluster.SubmitPython<long>(Fn("add"), 1, 1));
    }
}
