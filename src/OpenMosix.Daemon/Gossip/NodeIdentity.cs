using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using OpenMosix.Cluster.Map;

namespace OpenMosix.Daemon.Gossip;

/// <summary>Who this node is: an id and the address peers reach it at.</summary>
public sealed record NodeIdentity(ushort Id, IPAddress Address)
{
    /// <summary>
    /// The configured id wins; else the map entry holding one of this machine's addresses; else an id derived from
    /// the address (its low 16 bits), as omdiscd did, so nodes without a map still get distinct ids on a /16.
    /// </summary>
    public static NodeIdentity Resolve(ushort configuredId, IPAddress? configuredAddress, ClusterMap map,
        IReadOnlyList<IPAddress> localAddresses)
    {
        if (configuredId != 0)
        {
            var address = configuredAddress
                ?? (map.TryGetNode(configuredId, out var node) ? node.Address : null)
                ?? FirstUsable(localAddresses);
            return new NodeIdentity(configuredId, address);
        }
        foreach (var local in localAddresses)
            if (map.TryGetNodeByAddress(local, out var node))
                return new NodeIdentity(node.Id, node.Address);
        var own = configuredAddress ?? FirstUsable(localAddresses);
        return new NodeIdentity(DeriveId(own), own);
    }

    public static ushort DeriveId(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        var id = (ushort)((bytes[^2] << 8) | bytes[^1]);
        return id == 0 ? (ushort)1 : id;
    }

    public static IReadOnlyList<IPAddress> LocalAddresses()
    {
        var addresses = new List<IPAddress>();
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            if (nic.OperationalStatus == OperationalStatus.Down) continue;
            foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
                if (unicast.Address.AddressFamily == AddressFamily.InterNetwork)
                    addresses.Add(unicast.Address);
        }
        return addresses;
    }

    private static IPAddress FirstUsable(IReadOnlyList<IPAddress> addresses) =>
        addresses.FirstOrDefault(a => !IPAddress.IsLoopback(a))
        ?? throw new InvalidOperationException("this machine has no IPv4 address to join a cluster with; set node.address");
}
