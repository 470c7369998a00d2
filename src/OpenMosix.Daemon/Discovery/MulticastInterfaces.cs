using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace OpenMosix.Daemon.Discovery;

/// <summary>An interface omdiscd speaks on: its kernel index and its IPv4 address.</summary>
public sealed record MulticastInterface(string Name, int Index, IPAddress Address)
{
    /// <summary>The named interfaces, or every interface that is up, not loopback and does multicast.</summary>
    public static IReadOnlyList<MulticastInterface> Resolve(IReadOnlyList<string> names)
    {
        var all = NetworkInterface.GetAllNetworkInterfaces();
        var chosen = new List<MulticastInterface>();
        if (names.Count > 0)
        {
            foreach (var name in names)
            {
                var nic = all.FirstOrDefault(n => n.Name == name)
                    ?? throw new ArgumentException($"no network interface named {name}");
                chosen.Add(From(nic) ?? throw new ArgumentException($"interface {name} has no IPv4 address or cannot multicast"));
            }
            return chosen;
        }
        foreach (var nic in all)
            if (nic.OperationalStatus != OperationalStatus.Down && nic.NetworkInterfaceType != NetworkInterfaceType.Loopback
                && From(nic) is { } usable)
                chosen.Add(usable);
        return chosen.Count > 0 ? chosen : throw new ArgumentException("no interface that is up can multicast; name one with -i");
    }

    private static MulticastInterface? From(NetworkInterface nic)
    {
        if (!nic.SupportsMulticast) return null;
        var properties = nic.GetIPProperties();
        var address = properties.UnicastAddresses.Select(u => u.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork);
        var index = properties.GetIPv4Properties()?.Index;
        return address is null || index is null ? null : new MulticastInterface(nic.Name, index.Value, address);
    }
}
