using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using OpenMosix.Cluster.Security;
using OpenMosix.Cluster.Transport;

// Node link throughput: node 1 streams image frames to node 2 through the real NodeLink, once secured as omd runs it
// (mutual TLS 1.3, then records keyed inside it, under the cipher both ends choose or the one --cipher names) and once with the same framing over plain TCP, in ABBA order
// so that drift (turbo, a neighbour's load) falls on both alike. Handshakes are not in the timing; the receiver
// allocates each frame as omd's reader does.
// By default both ends run in this process over loopback, sharing every core. With --machines each end is a process
// of its own in its own network namespace, pinned to a core of its own, over a veth pair (optionally shaped to
// --rate by tbf): two one-core machines on a wire, where each side pays only its own half of the AES work.
var options = BenchOptions.Parse(args);
if (options.Role is { } role) return await TwoMachines.RunRoleAsync(role, options);

var now = DateTimeOffset.UtcNow;
using var ca = ClusterCertificates.CreateCa(now);
var runs = new List<LinkRun>();
if (options.Machines)
{
    using var wire = TwoMachines.Wire.Create(options.Rate);
    using var certificates = TwoMachines.Certificates.Write(ca, now);
    await TwoMachines.RunAsync(wire, certificates, secure: true, 16, options);
    await TwoMachines.RunAsync(wire, certificates, secure: false, 16, options);
    for (var round = 0; round < options.Rounds; round++)
        foreach (var secure in options.Order())
            runs.Add(await TwoMachines.RunAsync(wire, certificates, secure, options.MiB, options));
}
else
{
    var home = Node(1, options.Ciphers);
    var target = Node(2, options.Ciphers);
    await Loopback.RunAsync(home, target, secure: true, 16, options.FrameKiB);
    await Loopback.RunAsync(home, target, secure: false, 16, options.FrameKiB);
    for (var round = 0; round < options.Rounds; round++)
        foreach (var secure in options.Order())
            runs.Add(await Loopback.RunAsync(home, target, secure, options.MiB, options.FrameKiB));
}
Report.Print(runs, options);
return 0;

LinkSecurity Node(ushort id, RecordCipher ciphers)
{
    var certificate = ClusterCertificates.IssueNode(ca, id, IPAddress.Loopback, now);
    var trust = new ClusterTrust([X509CertificateLoader.LoadCertificate(ca.RawData)]);
    return new LinkSecurity(NodeCredentials.From(certificate, trust), _ => IPAddress.Loopback) { Ciphers = ciphers };
}

/// <summary>One timed transfer: wall time, and CPU time of the sending and receiving ends (one figure on loopback).</summary>
internal sealed record LinkRun(bool Secure, double Seconds, double SenderCpu, double ReceiverCpu);

internal sealed record BenchOptions(int MiB, int FrameKiB, int Rounds, bool Markdown, bool Machines, string? Rate, string? Role,
    string? Address, string? Directory, bool Secure, bool? Only = null, string? Cipher = null)
{
    /// <summary>What both ends offer: the one --cipher names, or every one this process has (the fastest then wins).</summary>
    public RecordCipher Ciphers => Cipher is null ? RecordCiphers.Supported
        : RecordCiphers.Preference.FirstOrDefault(c => RecordCiphers.Name(c) == Cipher) is var one and not RecordCipher.None ? one
        : throw new ArgumentException($"--cipher {string.Join(" | ", RecordCiphers.Preference.Select(RecordCiphers.Name))}, not {Cipher}");

    /// <summary>The links of one round: ABBA, or with --only (for a profiler) the one kind alone.</summary>
    public bool[] Order() => Only is { } only ? [only] : [true, false, false, true];

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions(512, 1024, 2, false, false, null, null, null, null, true);
        for (var i = 0; i < args.Length; i++)
        {
            options = args[i] switch
            {
                "--mib" => options with { MiB = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--frame-kib" => options with { FrameKiB = Math.Clamp(int.Parse(args[++i], CultureInfo.InvariantCulture), 1, NodeLink.MaxPayload / 1024) },
                "--rounds" => options with { Rounds = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--markdown" => options with { Markdown = true },
                "--machines" => options with { Machines = true },
                "--rate" => options with { Machines = true, Rate = args[++i] },
                // What a --machines run passes to each end's own process.
                "--role" => options with { Role = args[++i] },
                "--address" => options with { Address = args[++i] },
                "--dir" => options with { Directory = args[++i] },
                "--plain" => options with { Secure = false },
                "--cipher" => options with { Cipher = args[++i] },
                "--only" => options with { Only = args[++i] switch { "tls" => true, "plain" => false, var other => throw new ArgumentException($"--only tls or --only plain, not {other}") } },
                _ => throw new ArgumentException($"unknown argument {args[i]} (--mib N, --frame-kib N, --rounds N, --machines, --rate RATE, --only tls|plain, --cipher NAME, --markdown)"),
            };
        }
        return options;
    }
}
