using System.Net;
using System.Security.Cryptography.X509Certificates;
using OpenMosix.Cluster.Security;

namespace OpenMosix.TestSupport;

/// <summary>
/// A cluster CA made in memory at a given time, issuing node certificates as `om ca issue` does (the same
/// <see cref="ClusterCertificates"/> code): what the gossip-origin tests sign with. Each CA has a name of its own.
/// </summary>
public sealed class TestAuthority(DateTimeOffset now) : IDisposable
{
    /// <summary>The CA, with its key.</summary>
    public X509Certificate2 Certificate { get; } = ClusterCertificates.CreateCa(now);

    /// <summary>A certificate naming <paramref name="node"/> (at 10.77.0.N), with its P-256 private key.</summary>
    public X509Certificate2 Issue(ushort node) =>
        ClusterCertificates.IssueNode(Certificate, node, IPAddress.Parse($"10.77.0.{node & 0xff}"), now);

    public void Dispose() => Certificate.Dispose();
}
