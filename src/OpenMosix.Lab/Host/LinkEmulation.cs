using OpenMosix.Lab.State;

namespace OpenMosix.Lab.Host;

/// <summary>
/// tc netem on both ends of a node's veth: the host end shapes what the node receives, the node's eth0 what it sends,
/// so delay and loss apply in both directions as on a bad cable.
/// </summary>
public static class LinkEmulation
{
    private const string Tc = "tc";

    public static void Apply(string netns, string hostVeth, NetemSettings settings)
    {
        Replace(["qdisc", "replace", "dev", hostVeth, "root", .. settings.TcArguments()], hostVeth);
        try
        {
            Replace(["-n", netns, "qdisc", "replace", "dev", "eth0", "root", .. settings.TcArguments()], $"eth0 in {netns}");
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

    private static void Replace(string[] arguments, string where)
    {
        var result = ToolRun.TryRun($"netem on {where}", Tc, arguments);
        if (result.Succeeded) return;
        // tc's words when the kernel has no sch_netem (not built, or the module is missing).
        if (result.Stderr.Contains("qdisc kind is unknown", StringComparison.Ordinal))
            throw new LabException("lab netem: this kernel has no netem queueing discipline (sch_netem, CONFIG_NET_SCH_NETEM); " +
                "delay and loss cannot be emulated here");
        throw new LabException($"netem on {where}: `{result.CommandLine}` failed: {result.Reason}");
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
