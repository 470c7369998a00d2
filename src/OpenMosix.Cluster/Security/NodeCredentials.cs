using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OpenMosix.Cluster.Security;

/// <summary>
/// What a node proves itself with and whom it believes: its own certificate (with key) for one node id, and the
/// cluster CAs its peers' certificates must chain to.
/// </summary>
public sealed class NodeCredentials : IDisposable
{
    private NodeCredentials(X509Certificate2 certificate, ushort node, ClusterTrust trust)
    {
        Certificate = certificate;
        Node = node;
        Trust = trust;
    }

    public X509Certificate2 Certificate { get; }
    /// <summary>The node id the certificate names.</summary>
    public ushort Node { get; }
    public ClusterTrust Trust { get; }
    public IReadOnlyList<IPAddress> Addresses => NodeNames.AddressesOf(Certificate);

    /// <summary>A node certificate (with its key) and the trusted CAs; refused unless it names a node and chains to them.</summary>
    public static NodeCredentials From(X509Certificate2 certificate, ClusterTrust trust, string source = "the node certificate")
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(trust);
        if (!certificate.HasPrivateKey) throw new CertificateSetupException($"{source} comes without its key");
        var node = NodeNames.NodeOf(certificate)
                   ?? throw new CertificateSetupException($"{source} names no openMosix node (no {NodeNames.UriPrefix}N name)");
        if (trust.Verify(certificate) is { } problem)
            throw new CertificateSetupException($"{source} is unusable: {problem}");
        return new NodeCredentials(certificate, node, trust);
    }

    /// <summary>Reads node.crt, node.key (0600) and ca.crt of <paramref name="directory"/>; any problem is one line.</summary>
    public static NodeCredentials Load(string directory)
    {
        var certificatePath = Path.Combine(directory, TlsFiles.NodeCertificate);
        var keyPath = Path.Combine(directory, TlsFiles.NodeKey);
        var trust = new ClusterTrust(TlsFiles.ReadCertificates(Path.Combine(directory, TlsFiles.CaCertificate)));
        var pem = TlsFiles.ReadText(certificatePath, "node certificate");
        var key = TlsFiles.ReadKey(keyPath);
        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPem(pem, key);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new CertificateSetupException($"{certificatePath} with {keyPath}: {e.Message.TrimEnd('.')}", e);
        }
        return From(certificate, trust, certificatePath);
    }

    public void Dispose()
    {
        Certificate.Dispose();
        Trust.Dispose();
    }
}
