using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using OpenMosix.Cluster.Security;
using OpenMosix.Cluster.Transport;

/// <summary>
/// The link between two one-core machines, emulated on this one: each end a process of its own in a network namespace
/// of its own, pinned to its own core, joined by a veth pair. The sender's clock runs from its first frame until the
/// receiver says it has every byte; each end reports its own CPU time from the first frame.
/// </summary>
internal static class TwoMachines
{
    private const int Port = 7790;
    private static readonly IPAddress[] Addresses = [IPAddress.Parse("10.231.0.1"), IPAddress.Parse("10.231.0.2")];

    public static async Task<LinkRun> RunAsync(Wire wire, Certificates certificates, bool secure, int mib, BenchOptions options)
    {
        string[] common = ["--mib", Invariant(mib), "--frame-kib", Invariant(options.FrameKiB), "--dir", certificates.Directory, "--address", Addresses[1].ToString(), .. secure ? Array.Empty<string>() : ["--plain"],
            .. options.Cipher is { } cipher ? ["--cipher", cipher] : Array.Empty<string>()];
        using var receiver = Start(wire.Namespaces[1], core: 1, ["--role", "receive", .. common]);
        if (await receiver.StandardOutput.ReadLineAsync() != "listening")
            throw new InvalidOperationException($"the receiving end did not start: {await receiver.StandardError.ReadToEndAsync()}");
        using var sender = Start(wire.Namespaces[0], core: 0, ["--role", "send", .. common]);
        var sent = Fields(await Finish(sender, "sending"));
        var received = Fields(await Finish(receiver, "receiving"));
        return new LinkRun(secure, sent["seconds"], sent["cpu"], received["cpu"]);
    }

    /// <summary>One end, in the process a --machines run started for it.</summary>
    public static async Task<int> RunRoleAsync(string role, BenchOptions options)
    {
        var directory = options.Directory ?? throw new ArgumentException("--role needs --dir");
        var target = new IPEndPoint(IPAddress.Parse(options.Address ?? throw new ArgumentException("--role needs --address")), Port);
        var self = role == "send" ? (ushort)1 : (ushort)2;
        var security = Security(directory, self, options.Ciphers);
        var frames = Frames.Count(options.MiB, options.FrameKiB);
        if (role == "receive")
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(target);
            listener.Listen(1);
            Console.WriteLine("listening");
            var socket = await listener.AcceptAsync();
            await using var link = options.Secure ? await NodeLink.AcceptAsync(socket, self, security, CancellationToken.None) : NodeLink.Unsecured(socket, 1);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            Frames.Check(await Frames.ReceiveAsync(link, frames), frames, options.FrameKiB * 1024);
            var used = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
            await link.SendAsync(FrameType.Control, "done"u8.ToArray());
            Console.WriteLine(Invariant($"cpu {used}"));
        }
        else
        {
            NodeLink link;
            if (options.Secure) link = await NodeLink.ConnectAsync(target, self, 2, security, CancellationToken.None);
            else
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(target);
                link = NodeLink.Unsecured(socket, 2);
            }
            await using var _ = link;
            var payload = Frames.Payload(options.FrameKiB);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            await Frames.SendAsync(link, payload, frames);
            if (await link.ReceiveAsync() is not { Type: FrameType.Control }) throw new InvalidOperationException("the receiver did not confirm");
            var seconds = clock.Elapsed.TotalSeconds;
            Console.WriteLine(Invariant($"seconds {seconds} cpu {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds}"));
        }
        return 0;
    }

    private static LinkSecurity Security(string directory, ushort self, RecordCipher ciphers)
    {
        var certificate = X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(directory, $"node{self}.p12"), null);
        var trust = new ClusterTrust([X509CertificateLoader.LoadCertificateFromFile(Path.Combine(directory, "ca.der"))]);
        return new LinkSecurity(NodeCredentials.From(certificate, trust), node => node is 1 or 2 ? Addresses[node - 1] : null)
        {
            LocalAddress = () => Addresses[self - 1],
            Ciphers = ciphers,
        };
    }

    private static Process Start(string ns, int core, string[] arguments)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell this program's path");
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])["netns", "exec", ns, "taskset", "-c", Invariant(core), self]) info.ArgumentList.Add(a);
        // Under `dotnet run` this program may be the dotnet host: the assembly then comes first.
        if (Path.GetFileName(self) == "dotnet") info.ArgumentList.Add(typeof(TwoMachines).Assembly.Location);
        foreach (var a in arguments) info.ArgumentList.Add(a);
        return Process.Start(info) ?? throw new InvalidOperationException("cannot start an end of the link");
    }

    private static async Task<string> Finish(Process end, string what)
    {
        var output = await end.StandardOutput.ReadToEndAsync();
        var errors = await end.StandardError.ReadToEndAsync();
        await end.WaitForExitAsync();
        if (end.ExitCode != 0) throw new InvalidOperationException($"the {what} end failed ({end.ExitCode}): {errors.Trim()}");
        return output;
    }

    private static Dictionary<string, double> Fields(string line)
    {
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var fields = new Dictionary<string, double>();
        for (var i = 0; i + 1 < words.Length; i += 2) fields[words[i]] = double.Parse(words[i + 1], CultureInfo.InvariantCulture);
        return fields;
    }

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);
    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Two namespaces and the veth pair between them, shaped to a rate by tbf when one is given; gone on dispose.</summary>
    internal sealed class Wire : IDisposable
    {
        public string[] Namespaces { get; }

        private Wire(string[] namespaces) => Namespaces = namespaces;

        public static Wire Create(string? rate)
        {
            var id = Environment.ProcessId;
            var wire = new Wire([$"omlink{id}a", $"omlink{id}b"]);
            try
            {
                foreach (var ns in wire.Namespaces) Ip($"netns add {ns}");
                Ip($"link add veth{id}a netns {wire.Namespaces[0]} type veth peer name veth{id}b netns {wire.Namespaces[1]}");
                for (var i = 0; i < 2; i++)
                {
                    var (ns, dev) = (wire.Namespaces[i], $"veth{id}{(char)('a' + i)}");
                    Ip($"-n {ns} addr add {Addresses[i]}/24 dev {dev}");
                    Ip($"-n {ns} link set {dev} up");
                    Ip($"-n {ns} link set lo up");
                    // A burst of 8 MB keeps tbf from being the limit at rates up to 10 Gbit/s with this kernel's tick.
                    if (rate is not null) Run("tc", $"-n {ns} qdisc add dev {dev} root tbf rate {rate} burst 8mb latency 50ms");
                }
                return wire;
            }
            catch
            {
                wire.Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            foreach (var ns in Namespaces)
            {
                try
                {
                    Ip($"netns del {ns}");
                }
                catch (InvalidOperationException)
                {
                    // Never made: nothing to remove.
                }
            }
        }

        private static void Ip(string arguments) => Run("ip", arguments);

        private static void Run(string program, string arguments)
        {
            using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardError = true })!;
            var errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0) throw new InvalidOperationException($"{program} {arguments}: {errors.Trim()}");
        }
    }

    /// <summary>The CA and both nodes' certificates (with keys), in a 0700 directory of their own; gone on dispose.</summary>
    internal sealed class Certificates : IDisposable
    {
        public string Directory { get; }

        private Certificates(string directory) => Directory = directory;

        public static Certificates Write(X509Certificate2 ca, DateTimeOffset now)
        {
            var directory = System.IO.Directory.CreateTempSubdirectory("omlink-").FullName;
            File.WriteAllBytes(Path.Combine(directory, "ca.der"), ca.RawData);
            for (ushort node = 1; node <= 2; node++)
            {
                using var certificate = ClusterCertificates.IssueNode(ca, node, Addresses[node - 1], now);
                // The directory is 0700 (CreateTempSubdirectory), so the keys inside are the owner's alone.
                File.WriteAllBytes(Path.Combine(directory, $"node{node}.p12"), certificate.Export(X509ContentType.Pkcs12));
            }
            return new Certificates(directory);
        }

        public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
    }
}
