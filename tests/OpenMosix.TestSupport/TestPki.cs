using System.Net;
using System.Security.Cryptography.X509Certificates;
using OpenMosix.Cluster.Security;
using OpenMosix.Cluster.Transport;

namespace OpenMosix.TestSupport;

/// <summary>A cluster CA for tests, in memory, and node credentials signed by it.</summary>
public sealed class TestPki : IDisposable
{
    public TestPki(DateTimeOffset? now = null) => Ca = ClusterCertificates.CreateCa(now ?? DateTimeOffset.UtcNow);

    /// <summary>The CA with its key.</summary>
    public X509Certificate2 Ca { get; }

    /// <summary>Node <paramref name="node"/> at <paramref name="address"/>, trusting this CA or the ones given.</summary>
    public NodeCredentials Node(ushort node, IPAddress address, IEnumerable<X509Certificate2>? trusted = null, DateTimeOffset? now = null)
    {
        var certificate = ClusterCertificates.IssueNode(Ca, node, address, now ?? DateTimeOffset.UtcNow);
        return NodeCredentials.From(certificate, Trust(trusted ?? [Ca]));
    }

    /// <summary>Links as node <paramref name="node"/> at <paramref name="address"/>, with every node of the map at <paramref name="mapped"/>.</summary>
    public LinkSecurity Links(ushort node, IPAddress address, Func<ushort, IPAddress?> mapped, IEnumerable<X509Certificate2>? trusted = null) =>
        new(Node(node, address, trusted), mapped);

    /// <summary>Writes node.key, node.crt and ca.crt for a node into <paramref name="directory"/>, as `om ca issue` would.</summary>
    public void WriteNode(string directory, ushort node, IPAddress address)
    {
        Directory.CreateDirectory(directory);
        using var certificate = ClusterCertificates.IssueNode(Ca, node, address, DateTimeOffset.UtcNow);
        using (var key = certificate.GetECDsaPrivateKey()!) TlsFiles.WriteKey(Path.Combine(directory, TlsFiles.NodeKey), key);
        TlsFiles.WriteCertificates(Path.Combine(directory, TlsFiles.NodeCertificate), [certificate]);
        TlsFiles.WriteCertificates(Path.Combine(directory, TlsFiles.CaCertificate), [Ca]);
    }

    public static ClusterTrust Trust(IEnumerable<X509Certificate2> cas) =>
        new([.. cas.Select(ca => X509CertificateLoader.LoadCertificate(ca.RawData))]);

    public void Dispose() => Ca.Dispose();
}
