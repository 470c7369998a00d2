using System.Net.Sockets;

namespace OpenMosix.Admin;

/// <summary>
/// Whether a daemon answers on a unix socket path: omd asks before it takes the path over from a stale file, the lab
/// before it calls a node's daemon ready.
/// </summary>
public static class SocketProbe
{
    public static bool Accepts(string socketPath)
    {
        if (!File.Exists(socketPath)) return false;
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
