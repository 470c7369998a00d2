using System.Net;
using System.Net.Sockets;

namespace OpenMosix.Cluster.Map;

/// <summary>The address a host name of a map line stands for, or null when it does not resolve.</summary>
public delegate IPAddress? MapHostResolver(string hostName);

/// <summary>How a map's host names are resolved when the map is loaded.</summary>
public static class MapHostNames
{
    /// <summary>The system resolver (/etc/hosts, DNS): its first IPv4 address, else its first IPv6 address.</summary>
    public static IPAddress? ResolveWithDns(string hostName)
    {
        IPAddress[] addresses;
        try
        {
            addresses = Dns.GetHostAddresses(hostName);
        }
        catch (SocketException)
        {
            return null;
        }
        return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
               ?? addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetworkV6);
    }
}
