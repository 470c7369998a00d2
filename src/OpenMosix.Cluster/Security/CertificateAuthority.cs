using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OpenMosix.Cluster.Security;

/// <summary>The cluster CA on disk (<c>om ca init</c>, <c>om ca issue</c>): ca.key and ca.crt, and the node certificates it signs.</summary>
public static class CertificateAuthority
{
    /// <summary>Writes a new CA (ca.key 0600, ca.crt) into <paramref name="directory"/>; refuses to replace either.</summary>
    public static X509Certificate2 Init(string directory, DateTimeOffset now)
    {
        var keyPath = Path.Combine(directory, TlsFiles.CaKey);
        var certificatePath = Path.Combine(directory, TlsFiles.CaCertificate);
        CreateDirectory(directory);
        TlsFiles.RequireAbsent(keyPath, certificatePath);
        var ca = ClusterCertificates.CreateCa(now);
        using (var key = ca.GetECDsaPrivateKey()!) TlsFiles.WriteKey(keyPath, key);
        TlsFiles.WriteCertificates(certificatePath, [ca]);
        return ca;
    }

    /// <summary>
    /// Signs node.key/node.crt for <paramref name="node"/> at <paramref name="address"/> with the CA of
    /// <paramref name="caDirectory"/>, into <paramref name="outDirectory"/>; a copy of ca.crt goes along when that
    /// directory has none, so that it holds everything the node needs.
    /// </summary>
    public static X509Certificate2 Issue(string caDirectory, ushort node, IPAddress address, string outDirectory, DateTimeOffset now)
    {
        var keyPath = Path.Combine(outDirectory, TlsFiles.NodeKey);
        var certificatePath = Path.Combine(outDirectory, TlsFiles.NodeCertificate);
        using var ca = LoadSigning(caDirectory);
        CreateDirectory(outDirectory);
        TlsFiles.RequireAbsent(keyPath, certificatePath);
        var issued = ClusterCertificates.IssueNode(ca, node, address, now);
        using (var key = issued.GetECDsaPrivateKey()!) TlsFiles.WriteKey(keyPath, key);
        TlsFiles.WriteCertificates(certificatePath, [issued]);
        var trustPath = Path.Combine(outDirectory, TlsFiles.CaCertificate);
        var caPath = Path.Combine(caDirectory, TlsFiles.CaCertificate);
        if (!File.Exists(trustPath)) File.Copy(caPath, trustPath);
        return issued;
    }

    /// <summary>The CA certificate of ca.crt whose key is ca.key (ca.crt may hold an old CA beside it), with that key.</summary>
    public static X509Certificate2 LoadSigning(string directory)
    {
        var keyPath = Path.Combine(directory, TlsFiles.CaKey);
        var certificates = TlsFiles.ReadCertificates(Path.Combine(directory, TlsFiles.CaCertificate));
        using var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(TlsFiles.ReadKey(keyPath));
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new CertificateSetupException($"{keyPath}: not an ECDSA private key in PEM ({e.Message.TrimEnd('.')})", e);
        }
        var publicKey = key.ExportSubjectPublicKeyInfo();
        var match = certificates.FirstOrDefault(c => c.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(publicKey))
                    ?? throw new CertificateSetupException($"no certificate in {Path.Combine(directory, TlsFiles.CaCertificate)} belongs to {keyPath}");
        var signing = match.CopyWithPrivateKey(key);
        foreach (var certificate in certificates) certificate.Dispose();
        return signing;
    }

    private static void CreateDirectory(string directory)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException(TlsFiles.NeedsModes);
        try
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                                                 UnixFileMode.GroupRead | UnixFileMode.GroupExecute |
                                                 UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new CertificateSetupException($"cannot create {directory}: {e.Message}", e);
        }
    }
}
