using System.Diagnostics;

namespace Futures.Cluster.Tests;

/// <summary>Mutual TLS between nodes and executors, and a Redis membership behind a password.</summary>
public sealed partial class ClusterExecutorTests
{
    private static readonly TimeSpan RefusalTimeout = TimeSpan.FromSeconds(4);

    [Test]
    public void TlsNodesRunTheTasksOfAnExecutorWithACertificateOfTheirAuthority()
    {
        using var certificates = new TestCertificates();
        var primary = Node(null, workers: 1, "--tls-cert", certificates.Leaf("node1"), "--tls-ca", certificates.Ca);
        // The second node joins through the primary's silo port: silo-to-silo TLS.
        var second = Node(primary, workers: 1, "--tls-cert", certificates.Leaf("node2"), "--tls-ca", certificates.Ca);
        Assert.That(primary.Output, Does.Contain("(mutual TLS)"));
        var executor = Executor(primary.Gateway, o => new ClusterExecutorOptions
        {
            Address = o.Address,
            TlsCertificate = certificates.Leaf("executor"),
            TlsCa = certificates.Ca,
        });
        var futures = Enumerable.Range(0, 40).Select(_ => executor.Submit(Utf8("work:0.05"))).ToList();
        var pids = futures.Select(f => int.Parse(Text(f.Result(Long)))).ToHashSet();
        Assert.That(pids.Overlaps(primary.WorkerPids()), Is.True, "the primary ran tasks");
        Assert.That(pids.Overlaps(second.WorkerPids()), Is.True, "the second node, joined over TLS, ran tasks");
        Assert.That(Text(executor.Submit(Utf8("echo:secure")).Result(Long)), Is.EqualTo("secure"));
        Assert.That(executor.Broken, Is.Null);
    }

    [Test]
    public void TlsNodesRefuseAnExecutorWithoutACertificate()
    {
        using var certificates = new TestCertificates();
        var node = Node(null, workers: 1, "--tls-cert", certificates.Leaf("node"), "--tls-ca", certificates.Ca);
        var executor = Executor(node.Gateway, o => new ClusterExecutorOptions { Address = o.Address, ConnectTimeout = RefusalTimeout });
        AssertRefused(executor, SubmitFew(executor), "TLS");
        Assert.That(node.HasExited, Is.False, "the node goes on");
    }

    [Test]
    public void TlsNodesRefuseAnExecutorWithACertificateOfAnotherAuthority()
    {
        using var certificates = new TestCertificates();
        var node = Node(null, workers: 1, "--tls-cert", certificates.Leaf("node"), "--tls-ca", certificates.Ca);
        // Trusting the other authority only: both ends refuse.
        var stranger = Executor(node.Gateway, o => new ClusterExecutorOptions
        {
            Address = o.Address,
            TlsCertificate = certificates.OtherLeaf,
            TlsCa = certificates.OtherCa,
            ConnectTimeout = RefusalTimeout,
        });
        // Trusting the nodes' authority, so that only the node's check of the executor's certificate refuses.
        var intruder = Executor(node.Gateway, o => new ClusterExecutorOptions
        {
            Address = o.Address,
            TlsCertificate = certificates.OtherLeaf,
            TlsCa = certificates.Ca,
            ConnectTimeout = RefusalTimeout,
        });
        var strangerFutures = SubmitFew(stranger);
        var intruderFutures = SubmitFew(intruder);
        AssertRefused(stranger, strangerFutures, "certificate");
        AssertRefused(intruder, intruderFutures, "certificate");
        Assert.That(node.HasExited, Is.False, "the node goes on");
    }

    [Test]
    public void ARedisMembershipBehindAPasswordRunsTasks()
    {
        _redis = RedisServer.Start(password: "s3cret,=:@pw");
        Node(NodeProcess.StartRedis(_redis.Address, workers: 2));
        var executor = Executor(_redis.Address);
        var futures = Enumerable.Range(0, 100).Select(i => executor.Submit(Utf8($"echo:{i}"))).ToList();
        for (int i = 0; i < futures.Count; i++)
        {
            Assert.That(Text(futures[i].Result(Long)), Is.EqualTo($"{i}"));
        }
        // Without the password, the executor is refused in bounded time (one Redis attempt takes seconds:
        // give up after the first), and the message does not leak it.
        var refused = Executor(_redis.AddressWithoutPassword, o => new ClusterExecutorOptions { Address = o.Address, ConnectTimeout = TimeSpan.FromSeconds(1) });
        var ex = AssertRefused(refused, SubmitFew(refused), "could not connect");
        Assert.That(ex.Message, Does.Not.Contain("s3cret"));
    }

    private static List<Future<byte[]>> SubmitFew(ClusterExecutor executor) =>
        Enumerable.Range(0, 3).Select(i => executor.Submit(Utf8($"echo:{i}"))).ToList();

    // The executor cannot connect: its futures fail with ClusterUnavailableException within the connect
    // timeout (plus the executor's own bounds), never complete normally, and the executor is broken.
    private static ClusterUnavailableException AssertRefused(ClusterExecutor executor, List<Future<byte[]>> futures, string mentions)
    {
        var watch = Stopwatch.StartNew();
        ClusterUnavailableException? first = null;
        foreach (var f in futures)
        {
            var ex = f.Exception(TimeSpan.FromSeconds(40));
            Assert.That(ex, Is.TypeOf<ClusterUnavailableException>(), ex?.ToString() ?? "the future did not fail in time");
            first ??= (ClusterUnavailableException)ex!;
        }
        TestContext.Out.WriteLine($"refused after {watch.Elapsed.TotalSeconds:F1} s: {first!.Message}");
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(30)), "refused in bounded time");
        Assert.That(first.Message, Does.Contain(mentions));
        Assert.That(executor.Broken, Is.Not.Null);
        Assert.That(executor.Connected.Wait(TimeSpan.FromSeconds(10)), Is.True, "Connected completes (the executor is broken, see Broken)");
        Assert.Throws<ClusterUnavailableException>(() => executor.Submit(Utf8("echo:late")));
        return first;
    }
}
