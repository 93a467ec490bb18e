using System.Security.Cryptography.X509Certificates;
using CsFutures.Cluster.Security;

namespace Futures.Cluster.Tests;

/// <summary>The settings of nodes and executors, without a cluster: the node's command line, Redis
/// addresses, and the TLS files and peer check.</summary>
public sealed class ClusterSettingsTests
{
    [Test]
    public void TheNodeCommandLineTakesTlsFilesInPairsAndAMaxResult()
    {
        using var certificates = new TestCertificates();
        string leaf = certificates.Leaf("node");
        var options = NodeProgram.Parse(["--primary", "--tls-cert", leaf, "--tls-ca", certificates.Ca, "--max-result", "4096", "--worker-command", "w"]);
        Assert.That(options.TlsCertificate, Is.EqualTo(leaf));
        Assert.That(options.TlsCa, Is.EqualTo(certificates.Ca));
        Assert.That(options.MaxResult, Is.EqualTo(4096));
        Assert.That(NodeProgram.Parse(["--primary", "--worker-command", "w"]).MaxResult, Is.EqualTo(64 * 1024 * 1024));

        var alone = Assert.Throws<ArgumentException>(() => NodeProgram.Parse(["--primary", "--tls-cert", leaf, "--worker-command", "w"]));
        Assert.That(alone!.Message, Does.Contain("--tls-cert").And.Contain("--tls-ca"));
        Assert.Throws<ArgumentException>(() => NodeProgram.Parse(["--primary", "--tls-ca", certificates.Ca, "--worker-command", "w"]));
        var missing = Assert.Throws<ArgumentException>(() => NodeProgram.Parse(["--primary", "--tls-cert", "/nonexistent.pem", "--tls-ca", certificates.Ca, "--worker-command", "w"]));
        Assert.That(missing!.Message, Does.Contain("/nonexistent.pem"));
        var keyless = Assert.Throws<ArgumentException>(() => NodeProgram.Parse(["--primary", "--tls-cert", certificates.Ca, "--tls-ca", certificates.Ca, "--worker-command", "w"]));
        Assert.That(keyless!.Message, Does.Contain("private key"));
        Assert.Throws<ArgumentException>(() => NodeProgram.Parse(["--primary", "--max-result", "0", "--worker-command", "w"]));
    }

    [Test]
    public void RedisAddressesCarryAPasswordAndAUser()
    {
        var plain = RedisAddress.ToOptions("redis://127.0.0.1:6379");
        Assert.That(plain.Password, Is.Null);
        Assert.That(plain.EndPoints.Single().ToString(), Does.Contain("6379"));
        var withPassword = RedisAddress.ToOptions("redis://:p%40ss%2C%3Dw%3Ard@127.0.0.1:6379");
        Assert.That(withPassword.Password, Is.EqualTo("p@ss,=w:rd"));
        Assert.That(withPassword.User, Is.Null);
        var withUser = RedisAddress.ToOptions("redis://alice:secret@localhost:7000/");
        Assert.That(withUser.User, Is.EqualTo("alice"));
        Assert.That(withUser.Password, Is.EqualTo("secret"));
        Assert.That(RedisAddress.Redact("redis://:secret@127.0.0.1:6379"), Is.EqualTo("redis://***@127.0.0.1:6379"));
        Assert.Throws<ArgumentException>(() => RedisAddress.ToOptions("127.0.0.1:6379"));
        Assert.Throws<ArgumentException>(() => RedisAddress.ToOptions("redis://a:1,b:2"));
        var bad = Assert.Throws<ArgumentException>(() => RedisAddress.ToOptions("redis://:secret@host:port"));
        Assert.That(bad!.Message, Does.Not.Contain("secret"));
    }

    [Test]
    public void APeerIsTrustedOnlyWhenItChainsToTheAuthority()
    {
        using var certificates = new TestCertificates();
        var tls = ClusterTls.Load(certificates.Leaf("node"), certificates.Ca)!;
        Assert.That(tls.Certificate.HasPrivateKey, Is.True);
        using var good = X509Certificate2.CreateFromPemFile(certificates.Leaf("peer"));
        using var intruder = X509Certificate2.CreateFromPemFile(certificates.OtherLeaf);
        using var otherAuthority = X509CertificateLoader.LoadCertificateFromFile(certificates.OtherCa);
        Assert.That(tls.IsTrusted(good, null), Is.True);
        Assert.That(tls.IsTrusted(intruder, null), Is.False);
        Assert.That(tls.IsTrusted(otherAuthority, null), Is.False, "a self-signed certificate of another authority");
        Assert.That(ClusterTls.Load(null, null), Is.Null);
        Assert.Throws<ArgumentException>(() => ClusterTls.Load(certificates.Leaf("x"), null));

        // A PFX file (no password) is read as well as PEM.
        string pfx = Path.Combine(Path.GetDirectoryName(certificates.Ca)!, "node.pfx");
        File.WriteAllBytes(pfx, good.Export(X509ContentType.Pkcs12));
        var fromPfx = ClusterTls.LoadCertificate(pfx);
        Assert.That(fromPfx.HasPrivateKey, Is.True);
        Assert.That(fromPfx.Thumbprint, Is.EqualTo(good.Thumbprint));
    }
}
