using System.Net;
using System.Net.Sockets;
using OpenMosix.Cluster.Security;

namespace OpenMosix.Cli.Commands.Cluster;

/// <summary>`om ca init|issue`: the cluster CA and the node certificates that authenticate node links.</summary>
internal static class CaCommand
{
    public static Command Create() => new("ca",
        "The cluster's certificate authority: every node proves its node id with a certificate it signed, and trusts " +
        $"only peers whose certificate it signed (TLS 1.3 on node links). Files live in {TlsFiles.DefaultDirectory} unless --dir says otherwise.")
    {
        Init(),
        Issue(),
    };

    private static Option<string> Directory(string description) => new("--dir")
    {
        Description = description,
        DefaultValueFactory = _ => TlsFiles.DefaultDirectory,
    };

    private static Command Init()
    {
        var dir = Directory($"Where to write ca.key (mode 0600) and ca.crt (default {TlsFiles.DefaultDirectory}).");
        return ResultCommand.Create("init",
            "Create a new cluster CA (ECDSA P-256, valid 10 years): ca.key, readable by root only, and ca.crt, which every " +
            "node needs. Existing files are never overwritten. Keep ca.key on the machine that issues node certificates.",
            [dir], CliJsonContext.Default.CertificateJson,
            parse =>
            {
                var directory = parse.GetValue(dir)!;
                using var ca = CertificateAuthority.Init(directory, DateTimeOffset.UtcNow);
                return CertificateJson.Of(ca, Path.Combine(directory, TlsFiles.CaCertificate), Path.Combine(directory, TlsFiles.CaKey));
            },
            ca => Console.WriteLine($"wrote a new CA \"{ca.Subject}\" to {ca.Certificate} (key {ca.Key}, valid until {ca.NotAfter:yyyy-MM-dd})"),
            json: Json("CA"));
    }

    private static Option<bool> Json(string what) =>
        new("--json") { Description = $"Print the {what} written as JSON: its subject, certificate and key files, and the end of its validity." };

    private static Command Issue()
    {
        var node = new Argument<string>("NODE") { Description = "The node id the certificate names (1-65535), as in the map." };
        var address = new Option<string>("--address")
        {
            Description = "The node's IP address in the map; peers accept its links only from there.",
            Required = true,
        };
        var dir = Directory($"The CA's directory: ca.key and ca.crt (default {TlsFiles.DefaultDirectory}).");
        var output = new Option<string?>("--out") { Description = "Where to write node.key (0600) and node.crt (default: the CA's directory)." };
        return ResultCommand.Create("issue",
            "Issue a certificate for one node (ECDSA P-256, valid 2 years), signed by the CA: node.key and node.crt, plus a " +
            "copy of ca.crt when the output directory has none. Copy the directory to the node (its omd reads paths.tls_dir). " +
            "Existing files are never overwritten.",
            [node, address, dir, output], CliJsonContext.Default.CertificateJson,
            parse =>
            {
                var id = NodeId(parse.GetValue(node)!);
                var ip = Address(parse.GetValue(address)!);
                var caDirectory = parse.GetValue(dir)!;
                var outDirectory = parse.GetValue(output) ?? caDirectory;
                using var issued = CertificateAuthority.Issue(caDirectory, id, ip, outDirectory, DateTimeOffset.UtcNow);
                return CertificateJson.Of(issued, Path.Combine(outDirectory, TlsFiles.NodeCertificate), Path.Combine(outDirectory, TlsFiles.NodeKey))
                    with { Node = id, Address = ip.ToString() };
            },
            cert => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"wrote {cert.Certificate} for node {cert.Node} at {cert.Address} (key {cert.Key}, valid until {cert.NotAfter:yyyy-MM-dd})")),
            json: Json("node certificate"));
    }

    private static ushort NodeId(string text) =>
        ushort.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id != 0
            ? id
            : throw new UsageException($"'{text}' is not a node id (1-65535)");

    // IPAddress.TryParse takes "5" for 0.0.0.5: a node's address is written out in full.
    private static IPAddress Address(string text) =>
        IPAddress.TryParse(text, out var ip) && (ip.AddressFamily == AddressFamily.InterNetworkV6 || text.Count(c => c == '.') == 3)
            && !ip.Equals(IPAddress.Any) && !ip.Equals(IPAddress.IPv6Any)
            ? ip
            : throw new UsageException($"'{text}' is not the IP address of a node");
}

/// <summary>om ca init|issue --json: the certificate written and where; Node and Address for a node's certificate.</summary>
internal sealed record CertificateJson(string Subject, string Certificate, string Key, DateTimeOffset NotAfter)
{
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public int? Node { get; init; }

    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Address { get; init; }

    public static CertificateJson Of(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate, string path, string key) =>
        new(certificate.Subject, path, key, new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero));
}
