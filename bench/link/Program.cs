using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using OpenMosix.Cluster.Security;
using OpenMosix.Cluster.Transport;

// Node link throughput over loopback: node 1 streams image frames to node 2, once over mutual TLS 1.3 (what omd
// runs) and once with the same framing over plain TCP, in ABBA order so that drift (turbo, a neighbour's load)
// falls on both alike. Handshakes are not in the timing; the receiver allocates each frame as omd's reader does.
var options = BenchOptions.Parse(args);
var now = DateTimeOffset.UtcNow;
using var ca = ClusterCertificates.CreateCa(now);
var home = Node(1);
var target = Node(2);

await RunOnce(secure: true, 16);
await RunOnce(secure: false, 16);
var runs = new List<(bool Secure, double Seconds, double CpuSeconds)>();
for (var round = 0; round < options.Rounds; round++)
    foreach (var secure in new[] { true, false, false, true })
        runs.Add(await RunOnce(secure, options.MiB));

double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}
var tls = Median(runs.Where(r => r.Secure).Select(r => r.Seconds));
var plain = Median(runs.Where(r => !r.Secure).Select(r => r.Seconds));
var tlsCpu = Median(runs.Where(r => r.Secure).Select(r => r.CpuSeconds));
var plainCpu = Median(runs.Where(r => !r.Secure).Select(r => r.CpuSeconds));
string Rate(double seconds) => (options.MiB * 1.048576 / seconds).ToString("F0", CultureInfo.InvariantCulture);
string F(double value, string format = "F3") => value.ToString(format, CultureInfo.InvariantCulture);
Console.WriteLine($"bench/link: {options.MiB} MiB in {options.FrameKiB} KiB frames over loopback, {options.Rounds} ABBA rounds, medians");
Console.WriteLine(options.Markdown ? "| link | seconds | MB/s | CPU seconds |\n|---|---|---|---|" : "link        seconds    MB/s  CPU s");
foreach (var (name, seconds, cpu) in new[] { ("TLS 1.3", tls, tlsCpu), ("plain TCP", plain, plainCpu) })
    Console.WriteLine(options.Markdown ? $"| {name} | {F(seconds)} | {Rate(seconds)} | {F(cpu)} |" : $"{name,-10} {F(seconds),8} {Rate(seconds),7} {F(cpu),6}");
Console.WriteLine($"TLS/plain time ratio: {F(tls / plain, "F2")} (goal <= 1.10); CPU ratio {F(tlsCpu / plainCpu, "F2")}");
return 0;

LinkSecurity Node(ushort id)
{
    var certificate = ClusterCertificates.IssueNode(ca, id, IPAddress.Loopback, now);
    var trust = new ClusterTrust([X509CertificateLoader.LoadCertificate(ca.RawData)]);
    return new LinkSecurity(NodeCredentials.From(certificate, trust), _ => IPAddress.Loopback);
}

async Task<(bool, double, double)> RunOnce(bool secure, int mib)
{
    using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
    listener.Listen(1);
    var endpoint = (IPEndPoint)listener.LocalEndPoint!;
    var accepted = Task.Run(async () =>
    {
        var socket = await listener.AcceptAsync();
        return secure ? await NodeLink.AcceptAsync(socket, 2, target, CancellationToken.None) : NodeLink.Unsecured(socket, 1);
    });
    NodeLink sender;
    if (secure) sender = await NodeLink.ConnectAsync(endpoint, 1, 2, home, CancellationToken.None);
    else
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endpoint);
        sender = NodeLink.Unsecured(socket, 2);
    }
    await using var _ = sender;
    await using var receiver = await accepted;

    var payload = new byte[options.FrameKiB * 1024];
    Random.Shared.NextBytes(payload);
    var frames = (long)mib * 1024 / options.FrameKiB;
    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
    var clock = Stopwatch.StartNew();
    var receiving = Task.Run(async () =>
    {
        long bytes = 0;
        for (var i = 0; i < frames; i++) bytes += (await receiver.ReceiveAsync())!.Value.Payload.Length;
        return bytes;
    });
    for (var i = 0; i < frames; i++) await sender.SendAsync(FrameType.Image, payload);
    var received = await receiving;
    var seconds = clock.Elapsed.TotalSeconds;
    var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
    if (received != frames * payload.Length) throw new InvalidOperationException($"received {received} bytes of {frames * payload.Length}");
    if (mib == options.MiB) Console.Error.WriteLine($"bench/link: {(secure ? "TLS" : "plain")} {seconds:F3} s, CPU {cpuSeconds:F3} s");
    return (secure, seconds, cpuSeconds);
}

internal sealed record BenchOptions(int MiB, int FrameKiB, int Rounds, bool Markdown)
{
    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions(512, 1024, 2, false);
        for (var i = 0; i < args.Length; i++)
        {
            options = args[i] switch
            {
                "--mib" => options with { MiB = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--frame-kib" => options with { FrameKiB = Math.Clamp(int.Parse(args[++i], CultureInfo.InvariantCulture), 1, NodeLink.MaxPayload / 1024) },
                "--rounds" => options with { Rounds = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--markdown" => options with { Markdown = true },
                _ => throw new ArgumentException($"unknown argument {args[i]} (--mib N, --frame-kib N, --rounds N, --markdown)"),
            };
        }
        return options;
    }
}
