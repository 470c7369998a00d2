using System.Text.Json;

namespace OpenMosix.Lab.Host;

/// <summary>
/// A node's port on the lab's bridge, switched off and on through iproute2's `bridge`. A disabled port drops every
/// frame in both directions, while the node's own eth0 keeps its carrier: the node is cut off as if a switch between
/// it and the others failed, and nothing inside the node notices a link change.
/// </summary>
public static class BridgePort
{
    private const string Bridge = "bridge";
    // The bridge's STP port states; with STP off they are set by hand and stay as set.
    private const string Disabled = "0";
    private const string Forwarding = "3";

    public static void Disable(string hostVeth) =>
        ToolRun.Run($"cut {hostVeth} from its bridge", Bridge, "link", "set", "dev", hostVeth, "state", Disabled);

    public static void Enable(string hostVeth) =>
        ToolRun.Run($"reconnect {hostVeth} to its bridge", Bridge, "link", "set", "dev", hostVeth, "state", Forwarding);

    /// <summary>Every bridge port on the host and its state ("forwarding", "disabled", ...).</summary>
    public static IReadOnlyDictionary<string, string> States()
    {
        using var json = JsonDocument.Parse(ToolRun.Run("list bridge ports", Bridge, "-j", "link", "show").Stdout);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var port in json.RootElement.EnumerateArray())
            if (port.TryGetProperty("ifname", out var name) && port.TryGetProperty("state", out var state))
                result[name.GetString() ?? ""] = state.GetString() ?? "";
        return result;
    }
}
