using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;

namespace CsFutures.Cluster.Security;

/// <summary>
/// Mutual TLS for a cluster's connections (silo to silo, executor to gateway): this end presents
/// <see cref="Certificate"/>, demands a certificate from the other end, and accepts it only when it chains
/// to one of the <see cref="Authority"/> certificates (the only trust anchors: the system store is not
/// consulted, revocation is not checked, host names are not checked; whoever holds a certificate of the
/// authority is a member of the cluster).
/// </summary>
internal sealed class ClusterTls
{
    private ClusterTls(X509Certificate2 certificate, X509Certificate2Collection authority)
    {
        Certificate = certificate;
        Authority = authority;
    }

    /// <summary>This end's certificate, with its private key.</summary>
    internal X509Certificate2 Certificate { get; }

    /// <summary>The authority whose certificates are accepted.</summary>
    internal X509Certificate2Collection Authority { get; }

    /// <summary>Reads the two files; null when neither is given.</summary>
    /// <exception cref="ArgumentException">Only one of the two is given, or a file cannot be read.</exception>
    internal static ClusterTls? Load(string? certificatePath, string? authorityPath)
    {
        if (certificatePath is null && authorityPath is null)
        {
            return null;
        }
        if (certificatePath is null || authorityPath is null)
        {
            throw new ArgumentException("TLS needs both a certificate with its private key (TlsCertificate, --tls-cert) and the authority's certificate (TlsCa, --tls-ca)");
        }
        return new ClusterTls(LoadCertificate(certificatePath), LoadAuthority(authorityPath));
    }

    /// <summary>A PEM file (certificate and private key, in any order) or a PFX file without password.</summary>
    internal static X509Certificate2 LoadCertificate(string path)
    {
        if (!File.Exists(path))
        {
            throw new ArgumentException($"the TLS certificate file '{path}' does not exist");
        }
        X509Certificate2 certificate;
        try
        {
            if (IsPem(path))
            {
                // Re-imported from PKCS#12 so that the key is a persisted one, as SslStream prefers.
                using var pem = X509Certificate2.CreateFromPemFile(path);
                certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            }
            else
            {
                certificate = X509CertificateLoader.LoadPkcs12FromFile(path, null);
            }
        }
        catch (CryptographicException ex)
        {
            throw new ArgumentException($"cannot read the TLS certificate '{path}' (expected a PEM file with the certificate and its private key, or a PFX file without password): {ex.Message}", ex);
        }
        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new ArgumentException($"the TLS certificate '{path}' has no private key");
        }
        return certificate;
    }

    /// <summary>The certificates of a PEM file (one or more <c>CERTIFICATE</c> blocks).</summary>
    internal static X509Certificate2Collection LoadAuthority(string path)
    {
        if (!File.Exists(path))
        {
            throw new ArgumentException($"the TLS authority file '{path}' does not exist");
        }
        var authority = new X509Certificate2Collection();
        try
        {
            authority.ImportFromPemFile(path);
        }
        catch (CryptographicException ex)
        {
            throw new ArgumentException($"cannot read the TLS authority '{path}' (expected a PEM file of certificates): {ex.Message}", ex);
        }
        if (authority.Count == 0)
        {
            throw new ArgumentException($"the TLS authority file '{path}' holds no certificate");
        }
        return authority;
    }

    /// <summary>Applies these settings to Orleans' TLS options (the same on silos and clients).</summary>
    internal void Configure(TlsOptions options)
    {
        options.LocalCertificate = Certificate;
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.CheckCertificateRevocation = false;
        options.RemoteCertificateValidation = (certificate, presented, _) => IsTrusted(certificate, presented);
    }

    /// <summary>Whether <paramref name="certificate"/> chains to the authority (the platform's verdict is
    /// ignored: it judges against the system store).</summary>
    internal bool IsTrusted(X509Certificate2 certificate, X509Chain? presented)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(Authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        if (presented is not null)
        {
            // Intermediates sent by the peer may complete the chain; they are not trusted by themselves.
            foreach (var element in presented.ChainElements)
            {
                if (!element.Certificate.RawDataMemory.Span.SequenceEqual(certificate.RawDataMemory.Span))
                {
                    chain.ChainPolicy.ExtraStore.Add(element.Certificate);
                }
            }
        }
        return chain.Build(certificate);
    }

    private static bool IsPem(string path)
    {
        using var reader = new StreamReader(path);
        var head = new char[4096];
        int read = reader.ReadBlock(head, 0, head.Length);
        return new string(head, 0, read).Contains("-----BEGIN", StringComparison.Ordinal);
    }
}
