using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Futures.Cluster.Tests;

/// <summary>
/// Certificates made for one test in a temporary folder, as PEM files: an authority (<see cref="Ca"/>)
/// with leaves signed by it, and an unrelated authority (<see cref="OtherCa"/>) with its own leaf. Each
/// leaf file holds the certificate and its private key; each authority file its certificate only.
/// </summary>
internal sealed class TestCertificates : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("cs_futures_tls_").FullName;
    private readonly X509Certificate2 _ca;

    internal TestCertificates()
    {
        _ca = CreateAuthority("cs_futures test CA");
        Ca = WriteCertificate("ca.pem", _ca, withKey: false);
        using var other = CreateAuthority("cs_futures unrelated CA");
        OtherCa = WriteCertificate("other-ca.pem", other, withKey: false);
        using var otherLeaf = CreateLeaf(other, "intruder");
        OtherLeaf = WriteCertificate("intruder.pem", otherLeaf, withKey: true);
    }

    /// <summary>The authority's certificate (PEM).</summary>
    internal string Ca { get; }

    /// <summary>An unrelated authority's certificate (PEM).</summary>
    internal string OtherCa { get; }

    /// <summary>A leaf of <see cref="OtherCa"/>, with its key (PEM).</summary>
    internal string OtherLeaf { get; }

    /// <summary>A new leaf of <see cref="Ca"/>, with its key (PEM).</summary>
    internal string Leaf(string name)
    {
        using var leaf = CreateLeaf(_ca, name);
        return WriteCertificate($"{name}.pem", leaf, withKey: true);
    }

    public void Dispose()
    {
        _ca.Dispose();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static X509Certificate2 CreateAuthority(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    private static X509Certificate2 CreateLeaf(X509Certificate2 authority, string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false)); // server and client authentication
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, true, false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        byte[] serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        using var certificate = request.Create(authority, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7), serial);
        return certificate.CopyWithPrivateKey(key);
    }

    private string WriteCertificate(string file, X509Certificate2 certificate, bool withKey)
    {
        string path = Path.Combine(_folder, file);
        string pem = certificate.ExportCertificatePem() + "\n";
        if (withKey)
        {
            pem += certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem() + "\n";
        }
        File.WriteAllText(path, pem);
        return path;
    }
}
