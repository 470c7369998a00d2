using System.Net;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OpenMosix.TestSupport;

/// <summary>A cluster CA made in memory, issuing node certificates of the layout `om ca issue` writes.</summary>
public sealed class TestAuthority : IDisposable
{
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly DateTimeOffset _now;

    public TestAuthority(DateTimeOffset now, string name = "openMosix test CA")
    {
        _now = now;
        var request = new CertificateRequest($"CN={name}", _key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        Certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(1));
    }

    public X509Certificate2 Certificate { get; }

    /// <summary>A certificate naming <paramref name="node"/> (SAN URI and CN), with its P-256 private key.</summary>
    public X509Certificate2 Issue(ushort node)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=openmosix-node-{node}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddUri(new Uri($"urn:openmosix:node:{node}"));
        names.AddIpAddress(IPAddress.Parse($"10.77.0.{node}"));
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        using var issued = request.Create(Certificate, _now.AddDays(-1), _now.AddDays(300), [1, (byte)(node >> 8), (byte)node]);
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>Writes ca.crt, node.crt and node.key (0600) for <paramref name="node"/> into <paramref name="directory"/>.</summary>
    [SupportedOSPlatform("linux")]
    public void WriteNodeDirectory(string directory, ushort node)
    {
        Directory.CreateDirectory(directory);
        using var certificate = Issue(node);
        using var key = certificate.GetECDsaPrivateKey()!;
        File.WriteAllText(Path.Join(directory, "ca.crt"), Certificate.ExportCertificatePem());
        File.WriteAllText(Path.Join(directory, "node.crt"), certificate.ExportCertificatePem());
        var keyPath = Path.Join(directory, "node.key");
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    public void Dispose()
    {
        Certificate.Dispose();
        _key.Dispose();
    }
}
