using System.Net;
using System.Security.Cryptography.X509Certificates;
using OpenMosix.Cli.Tests.Support;
using OpenMosix.Cluster.Security;
using OpenMosix.TestSupport;

namespace OpenMosix.Cli.Tests;

/// <summary>`om ca init` and `om ca issue` as an administrator runs them.</summary>
public sealed class CaCommandTests : IDisposable
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private readonly TempDirectory _dir = new("om-ca");

    private string Ca => _dir.File("ca");
    private string Node => _dir.File("node2");

    [Fact]
    public async Task Init_and_issue_write_a_CA_and_a_node_certificate_with_private_keys_that_verify_together()
    {
        var init = await OmCli.RunAsync(["ca", "init", "--dir", Ca]);
        Assert.True(init.ExitCode == 0, init.Stderr);
        Assert.Equal(Private, File.GetUnixFileMode(Path.Combine(Ca, "ca.key")));
        var issue = await OmCli.RunAsync(["ca", "issue", "2", "--address", "10.77.1.2", "--dir", Ca, "--out", Node]);
        Assert.True(issue.ExitCode == 0, issue.Stderr);
        Assert.StartsWith($"wrote {Path.Combine(Node, "node.crt")} for node 2 at 10.77.1.2", issue.Stdout, StringComparison.Ordinal);
        Assert.Equal(Private, File.GetUnixFileMode(Path.Combine(Node, "node.key")));
        Assert.Equal(File.ReadAllText(Path.Combine(Ca, "ca.crt")), File.ReadAllText(Path.Combine(Node, "ca.crt")));

        using var credentials = NodeCredentials.Load(Node);
        Assert.Equal((ushort)2, credentials.Node);
        Assert.Equal([IPAddress.Parse("10.77.1.2")], credentials.Addresses);
        using var ca = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(Ca, "ca.crt")));
        Assert.True(ca.NotAfter - ca.NotBefore > TimeSpan.FromDays(3650));
        Assert.Contains(ca.Extensions.OfType<X509BasicConstraintsExtension>(), b => b.CertificateAuthority);
    }

    [Fact]
    public async Task Existing_files_are_never_overwritten()
    {
        Assert.Equal(0, (await OmCli.RunAsync(["ca", "init", "--dir", Ca])).ExitCode);
        var key = File.ReadAllText(Path.Combine(Ca, "ca.key"));
        var again = await OmCli.RunAsync(["ca", "init", "--dir", Ca]);
        Assert.Equal((1, $"om: {Path.Combine(Ca, "ca.key")} already exists; remove it first if you really mean to replace it\n"),
            (again.ExitCode, again.Stderr));
        Assert.Equal(key, File.ReadAllText(Path.Combine(Ca, "ca.key")));

        Assert.Equal(0, (await OmCli.RunAsync(["ca", "issue", "2", "--address", "10.77.1.2", "--dir", Ca, "--out", Node])).ExitCode);
        var twice = await OmCli.RunAsync(["ca", "issue", "2", "--address", "10.77.1.2", "--dir", Ca, "--out", Node]);
        Assert.Equal((1, $"om: {Path.Combine(Node, "node.key")} already exists; remove it first if you really mean to replace it\n"),
            (twice.ExitCode, twice.Stderr));
    }

    [Theory]
    [InlineData("0", "10.77.1.2", "om: '0' is not a node id (1-65535)\n")]
    [InlineData("65536", "10.77.1.2", "om: '65536' is not a node id (1-65535)\n")]
    [InlineData("two", "10.77.1.2", "om: 'two' is not a node id (1-65535)\n")]
    [InlineData("2", "5", "om: '5' is not the IP address of a node\n")]
    [InlineData("2", "0.0.0.0", "om: '0.0.0.0' is not the IP address of a node\n")]
    [InlineData("2", "node2.example", "om: 'node2.example' is not the IP address of a node\n")]
    public async Task A_bad_node_id_or_address_is_refused_in_one_line_and_writes_nothing(string node, string address, string expected)
    {
        Assert.Equal(0, (await OmCli.RunAsync(["ca", "init", "--dir", Ca])).ExitCode);
        var run = await OmCli.RunAsync(["ca", "issue", node, "--address", address, "--dir", Ca, "--out", Node]);
        Assert.Equal((2, expected), (run.ExitCode, run.Stderr));
        Assert.False(Directory.Exists(Node));
    }

    [Fact]
    public async Task Issuing_without_a_CA_or_without_an_address_fails_in_one_line()
    {
        var noCa = await OmCli.RunAsync(["ca", "issue", "2", "--address", "10.77.1.2", "--dir", Ca]);
        Assert.Equal((1, $"om: no certificate at {Path.Combine(Ca, "ca.crt")}: create it with `om ca` (docs/omd.md)\n"), (noCa.ExitCode, noCa.Stderr));
        var noAddress = await OmCli.RunAsync(["ca", "issue", "2", "--dir", Ca]);
        Assert.Equal(2, noAddress.ExitCode);
        Assert.StartsWith("om: Option '--address' is required.", noAddress.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ca", "issue")]
    [InlineData("ca init", "--dir")]
    [InlineData("ca issue", "--address")]
    public async Task Every_ca_command_has_help(string words, string mentions)
    {
        var help = await OmCli.RunAsync([.. words.Split(' '), "--help"]);
        Assert.Equal(0, help.ExitCode);
        Assert.Contains(mentions, help.Stdout, StringComparison.Ordinal);
    }

    public void Dispose() => _dir.Dispose();
}
