using System.Net;
using System.Net.Sockets;

namespace OpenMosix.Daemon.Hosting;

/// <summary>The loops gossip and omdiscd both run: datagrams in until stopped, and a send round per timer tick.</summary>
internal static class UdpLoops
{
    /// <summary>
    /// Hands every datagram received to <paramref name="handle"/> until <paramref name="cancel"/> fires. A datagram
    /// that cannot be read (too large for the buffer, or an ICMP error for an earlier send) is skipped, not fatal.
    /// </summary>
    public static async Task ReceiveAsync(Socket socket, int bufferSize, Action<IPEndPoint, ReadOnlySpan<byte>> handle,
        CancellationToken cancel)
    {
        var buffer = new byte[bufferSize];
        var any = new IPEndPoint(IPAddress.Any, 0);
        while (!cancel.IsCancellationRequested)
        {
            SocketReceiveFromResult result;
            try
            {
                result = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, cancel).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.MessageSize)
            {
                continue;
            }
            handle((IPEndPoint)result.RemoteEndPoint, buffer.AsSpan(0, result.ReceivedBytes));
        }
    }

    /// <summary>Waits for the timer's next tick; false once stopped, so a `do … while` loop ends quietly.</summary>
    public static async Task<bool> NextTickAsync(PeriodicTimer timer, CancellationToken cancel)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancel).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
