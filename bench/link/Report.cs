using System.Globalization;
using OpenMosix.Cluster.Transport;

internal static class Report
{
    public static void Print(List<LinkRun> runs, BenchOptions options)
    {
        var where = options.Machines
            ? $"between two namespaces on a veth pair{(options.Rate is { } shaped ? $" shaped to {shaped}" : "")}, each end a process pinned to a core of its own"
            : "over loopback, both ends in one process";
        Console.WriteLine($"bench/link: {options.MiB} MiB in {options.FrameKiB} KiB frames {where}, {options.Rounds} ABBA rounds, medians; " +
            $"secured records under {RecordCiphers.Name(RecordCiphers.Choose(options.Ciphers, options.Ciphers))}; load {Load()}");
        Console.WriteLine(options.Markdown
            ? "| link | seconds | MB/s | CPU s, sender | CPU s, receiver |\n|---|---|---|---|---|"
            : "link        seconds    MB/s  CPU s send  CPU s recv");
        var kinds = new[] { ("TLS 1.3", true), ("plain TCP", false) }.Where(kind => runs.Any(r => r.Secure == kind.Item2));
        foreach (var (name, m) in kinds.Select(kind => (kind.Item1, Medians(runs, kind.Item2))))
        {
            var rate = F(options.MiB * 1.048576 / m.Seconds, "F0");
            Console.WriteLine(options.Markdown
                ? $"| {name} | {F(m.Seconds)} | {rate} | {F(m.SenderCpu)} | {F(m.ReceiverCpu)} |"
                : $"{name,-10} {F(m.Seconds),8} {rate,7} {F(m.SenderCpu),11} {F(m.ReceiverCpu),11}");
        }
        if (!runs.Any(r => r.Secure) || runs.All(r => r.Secure)) return;
        var (tls, plain) = (Medians(runs, secure: true), Medians(runs, secure: false));
        var spread = string.Join(", ", runs.Where(r => r.Secure).Select(r => F(r.Seconds)));
        var plainSpread = string.Join(", ", runs.Where(r => !r.Secure).Select(r => F(r.Seconds)));
        Console.WriteLine($"TLS/plain time ratio: {F(tls.Seconds / plain.Seconds, "F2")} (goal <= 1.10); runs TLS [{spread}] plain [{plainSpread}]");
        // Over loopback both ends share the cores, and when they keep both busy the time follows the CPU: this ratio is
        // the floor the time ratio comes down to on a quiet machine.
        Console.WriteLine($"TLS/plain CPU ratio: {F((tls.SenderCpu + tls.ReceiverCpu) / (plain.SenderCpu + plain.ReceiverCpu), "F2")}" +
            (options.Machines ? $" (sender {F(tls.SenderCpu / plain.SenderCpu, "F2")}, receiver {F(tls.ReceiverCpu / plain.ReceiverCpu, "F2")})" : ""));
    }

    private static LinkRun Medians(List<LinkRun> runs, bool secure)
    {
        var mine = runs.Where(r => r.Secure == secure).ToList();
        return new LinkRun(secure, Median(mine.Select(r => r.Seconds)), Median(mine.Select(r => r.SenderCpu)), Median(mine.Select(r => r.ReceiverCpu)));
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Load() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

    private static string F(double value, string format = "F3") => value.ToString(format, CultureInfo.InvariantCulture);
}
