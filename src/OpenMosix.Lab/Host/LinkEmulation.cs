using System.Globalization;
using OpenMosix.Lab.State;

namespace OpenMosix.Lab.Host;

/// <summary>
/// Delay and loss on both ends of a node's veth: the host end shapes what the node receives, the node's eth0 what it
/// sends, so they apply in both directions as on a bad cable. tc netem where the kernel has it. A kernel without
/// sch_netem (this project's test machines: a Firecracker kernel with htb and pfifo, the u32 and bpf classifiers and
/// no tc actions, no nftables or iptables) still gets the loss: an htb root whose classic BPF filter sends a random
/// share of the packets (BPF's `ld rand`) to a class whose pfifo holds none, so they are dropped; the delay is then a
/// user-space relay's (<see cref="DelayRelay"/>), which the caller starts when <see cref="Apply"/> says netem did none.
/// </summary>
public static class LinkEmulation
{
    private const string Tc = "tc";

    /// <summary>cls_bpf's classic BPF for "drop <paramref name="percent"/> % at random": A = a random u32; below the
    /// threshold, class 1:2 (the dropping one); else no match, so htb's default class 1:1.</summary>
    public static string LossFilter(double percent)
    {
        if (percent >= 100) return "1,6 0 0 65538";
        var threshold = (uint)Math.Round(percent / 100 * 4294967296.0);
        // ld rand (SKF_AD_OFF + SKF_AD_RANDOM) | jge #threshold, +1 | ret #0x10002 (1:2) | ret #0 (no match)
        return string.Create(CultureInfo.InvariantCulture, $"4,32 0 0 4294963256,53 1 0 {threshold},6 0 0 65538,6 0 0 0");
    }

    /// <summary>Shapes both ends; true when netem did it all, false when only the loss is done (no netem here), and
    /// a delay asked for is left to a relay.</summary>
    public static bool Apply(string netns, string hostVeth, NetemSettings settings)
    {
        var byNetem = Shape(settings, [], hostVeth, hostVeth, byNetem: null);
        try
        {
            Shape(settings, ["-n", netns], "eth0", $"eth0 in {netns}", byNetem);
            return byNetem;
        }
        catch (LabException)
        {
            // Never half a netem: one direction shaped and the other not would be a link no test asked for.
            Clear(netns, hostVeth);
            throw;
        }
    }

    /// <summary>Back to the default queue on both ends; an end that has no netem left is fine.</summary>
    public static void Clear(string netns, string hostVeth)
    {
        Delete(["qdisc", "del", "dev", hostVeth, "root"], hostVeth);
        Delete(["-n", netns, "qdisc", "del", "dev", "eth0", "root"], $"eth0 in {netns}");
    }

    /// <summary>One end shaped by netem or, when the kernel has none (<paramref name="byNetem"/> false, or null: try),
    /// by the loss filter; returns which.</summary>
    private static bool Shape(NetemSettings settings, string[] where, string device, string name, bool? byNetem)
    {
        if (byNetem != false)
        {
            var result = ToolRun.TryRun($"netem on {name}", Tc, [.. where, "qdisc", "replace", "dev", device, "root", .. settings.TcArguments()]);
            if (result.Succeeded) return true;
            // tc's words when the kernel has no sch_netem (not built, or the module is missing).
            if (!result.Stderr.Contains("qdisc kind is unknown", StringComparison.Ordinal))
                throw new LabException($"netem on {name}: `{result.CommandLine}` failed: {result.Reason}");
        }
        // From the default queue, or from an earlier loss filter, whose classes would be in the way.
        Delete([.. where, "qdisc", "del", "dev", device, "root"], name);
        if (settings.LossPercent <= 0) return false;
        string[][] steps =
        [
            ["qdisc", "add", "dev", device, "root", "handle", "1:", "htb", "default", "1"],
            // Classes that never hold anything back: the rate is far above what a veth carries here.
            ["class", "add", "dev", device, "parent", "1:", "classid", "1:1", "htb", "rate", "100gbit", "burst", "4m", "cburst", "4m", "quantum", "60000"],
            ["class", "add", "dev", device, "parent", "1:", "classid", "1:2", "htb", "rate", "100gbit", "burst", "4m", "cburst", "4m", "quantum", "60000"],
            ["qdisc", "add", "dev", device, "parent", "1:2", "handle", "2:", "pfifo", "limit", "0"],
            ["filter", "add", "dev", device, "parent", "1:", "bpf", "bytecode", LossFilter(settings.LossPercent), "classid", "1:2"],
        ];
        foreach (var step in steps)
        {
            var result = ToolRun.TryRun($"loss on {name}", Tc, [.. where, .. step]);
            if (!result.Succeeded)
                throw new LabException($"loss on {name}: `{result.CommandLine}` failed: {result.Reason}");
        }
        return false;
    }

    private static void Delete(string[] arguments, string where)
    {
        var result = ToolRun.TryRun($"clear netem on {where}", Tc, arguments);
        // Deleting the default root qdisc is refused ("handle of zero", "No such file"): there was nothing to clear.
        if (!result.Succeeded && !result.Stderr.Contains("handle of zero", StringComparison.Ordinal)
            && !result.Stderr.Contains("No such file", StringComparison.Ordinal))
            throw new LabException($"clear netem on {where}: `{result.CommandLine}` failed: {result.Reason}");
    }
}
