using System.Net;
using System.Security.Cryptography.X509Certificates;
using OpenMosix.Cluster.Security;
using OpenMosix.TestSupport;

namespace OpenMosix.Cluster.Tests;

public sealed class NodeCertificateTests : IDisposable
{
    private static readonly IPAddress Address = IPAddress.Parse("10.77.1.4");
    private readonly TestPki _pki = new();
    private readonly TempDirectory _dir = new("om-tls");

    [Fact]
    public void A_node_certificate_names_its_node_and_address_and_serves_as_client_and_server()
    {
        using var certificate = ClusterCertificates.IssueNode(_pki.Ca, 4, Address, DateTimeOffset.UtcNow);
        Assert.Equal((ushort)4, NodeNames.NodeOf(certificate));
        Assert.Equal([Address], NodeNames.AddressesOf(certificate));
        Assert.Equal("CN=openmosix-node-4, O=openMosix.NET", certificate.Subject);
        Assert.True(ClusterCertificates.ServesBothEnds(certificate));
        Assert.True(certificate.NotAfter - certificate.NotBefore > TimeSpan.FromDays(700));
        using var trust = TestPki.Trust([_pki.Ca]);
        Assert.Null(trust.Verify(certificate));
    }

    [Fact]
    public void A_certificate_of_a_CA_not_trusted_or_expired_is_refused_with_the_reason()
    {
        using var foreign = new TestPki();
        using var trust = TestPki.Trust([_pki.Ca]);
        using var stranger = ClusterCertificates.IssueNode(foreign.Ca, 4, Address, DateTimeOffset.UtcNow);
        Assert.Contains("is not signed by a CA this node trusts", trust.Verify(stranger), StringComparison.Ordinal);

        var past = DateTimeOffset.UtcNow.AddYears(-3);
        using var old = new TestPki(past);
        using var expired = ClusterCertificates.IssueNode(old.Ca, 4, Address, past);
        using var oldTrust = TestPki.Trust([old.Ca]);
        Assert.Matches("^its certificate is valid from .* UTC, not now$", oldTrust.Verify(expired));
    }

    [Fact]
    public void A_CA_file_with_an_old_and_a_new_CA_trusts_certificates_of_both()
    {
        using var next = new TestPki();
        var path = _dir.File("ca.crt");
        TlsFiles.WriteCertificates(path, [_pki.Ca, next.Ca]);
        using var trust = new ClusterTrust(TlsFiles.ReadCertificates(path));
        using var byOld = ClusterCertificates.IssueNode(_pki.Ca, 1, Address, DateTimeOffset.UtcNow);
        using var byNew = ClusterCertificates.IssueNode(next.Ca, 2, Address, DateTimeOffset.UtcNow);
        Assert.Equal(2, trust.Cas.Count);
        Assert.Null(trust.Verify(byOld));
        Assert.Null(trust.Verify(byNew));
    }

    [Fact]
    public void Node_credentials_load_from_a_directory_with_a_private_key()
    {
        _pki.WriteNode(_dir.Path, 4, Address);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_dir.File("node.key")));
        using var credentials = NodeCredentials.Load(_dir.Path);
        Assert.Equal((ushort)4, credentials.Node);
        Assert.Equal([Address], credentials.Addresses);
    }

    [Fact]
    public void Node_credentials_with_a_missing_file_a_key_open_to_others_or_a_foreign_certificate_are_refused_in_one_line()
    {
        _pki.WriteNode(_dir.Path, 4, Address);
        var key = _dir.File("node.key");
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        Assert.Equal($"{key} has mode 0640: group or others may read it; chmod 600 {key}", Refusal());

        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var foreign = new TestPki();
        File.Delete(_dir.File("ca.crt"));
        TlsFiles.WriteCertificates(_dir.File("ca.crt"), [foreign.Ca]);
        Assert.Matches(@"^.*/node\.crt is unusable: its certificate \(issued by .*\) is not signed by a CA this node trusts$", Refusal());

        File.Delete(_dir.File("node.crt"));
        Assert.Equal($"no node certificate at {_dir.File("node.crt")}: create it with `om ca` (docs/omd.md)", Refusal());
    }

    public void Dispose()
    {
        _pki.Dispose();
        _dir.Dispose();
    }

    private string Refusal()
    {
        var error = Assert.Throws<CertificateSetupException>(() => NodeCredentials.Load(_dir.Path).Dispose());
        Assert.DoesNotContain('\n', error.Message);
        return error.Message;
    }
}
