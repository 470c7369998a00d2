using System.Text.Json;

namespace OpenMosix.Lab.Host;

/// <summary>Links, addresses and network namespaces through iproute2's `ip`.</summary>
public static class IpRoute
{
    private const string Ip = "ip";

    public static IReadOnlyList<string> NetworkNamespaces() =>
        Directory.Exists(LabLayout.NetnsRoot)
            ? [.. Directory.EnumerateFileSystemEntries(LabLayout.NetnsRoot).Select(p => Path.GetFileName(p))]
            : [];

    /// <summary>Every link name in the host's network namespace.</summary>
    public static IReadOnlyList<string> HostLinks()
    {
        using var json = JsonDocument.Parse(ToolRun.Run("list links", Ip, "-j", "link", "show").Stdout);
        return [.. json.RootElement.EnumerateArray().Select(l => l.GetProperty("ifname").GetString() ?? "")];
    }

    /// <summary>Every IPv4 address on a host interface.</summary>
    public static IReadOnlyList<string> HostIPv4Addresses()
    {
        using var json = JsonDocument.Parse(ToolRun.Run("list addresses", Ip, "-j", "-4", "addr", "show").Stdout);
        var result = new List<string>();
        foreach (var link in json.RootElement.EnumerateArray())
            if (link.TryGetProperty("addr_info", out var infos))
                foreach (var info in infos.EnumerateArray())
                    if (info.TryGetProperty("local", out var local) && local.GetString() is { } address) result.Add(address);
        return result;
    }

    /// <summary>A bridge with multicast snooping off, so that discovery's multicast reaches every port without IGMP joins.</summary>
    public static void AddBridge(string bridge, string address)
    {
        ToolRun.Run($"create bridge {bridge}", Ip, "link", "add", bridge, "type", "bridge", "mcast_snooping", "0");
        ToolRun.Run($"address bridge {bridge}", Ip, "addr", "add", address, "dev", bridge);
        ToolRun.Run($"bring up bridge {bridge}", Ip, "link", "set", bridge, "up");
    }

    public static void AddNetworkNamespace(string netns) =>
        ToolRun.Run($"create network namespace {netns}", Ip, "netns", "add", netns);

    /// <summary>
    /// A veth pair: <paramref name="hostEnd"/> on the bridge, the other end created directly inside the namespace as
    /// eth0 (so it never clashes with the host's own eth0), addressed, up, with lo up and a multicast route.
    /// </summary>
    public static void AddNodeLink(string netns, string hostEnd, string bridge, string addressWithPrefix)
    {
        ToolRun.Run($"create veth {hostEnd}", Ip, "link", "add", hostEnd, "type", "veth", "peer", "name", "eth0", "netns", netns);
        ToolRun.Run($"attach {hostEnd} to {bridge}", Ip, "link", "set", hostEnd, "master", bridge, "up");
        ToolRun.Run($"address eth0 in {netns}", Ip, "-n", netns, "addr", "add", addressWithPrefix, "dev", "eth0");
        ToolRun.Run($"bring up eth0 in {netns}", Ip, "-n", netns, "link", "set", "eth0", "multicast", "on", "up");
        ToolRun.Run($"bring up lo in {netns}", Ip, "-n", netns, "link", "set", "lo", "up");
        // Without a route for 224.0.0.0/4 a multicast send fails (ENETUNREACH) in a namespace with no default route.
        ToolRun.Run($"multicast route in {netns}", Ip, "-n", netns, "route", "add", "224.0.0.0/4", "dev", "eth0");
    }

    public static ToolResult TryDeleteLink(string link) => ToolRun.TryRun($"delete link {link}", Ip, "link", "del", link);

    public static ToolResult TryDeleteNetworkNamespace(string netns) =>
        ToolRun.TryRun($"delete network namespace {netns}", Ip, "netns", "del", netns);
}
