using System.Net;
using System.Net.Sockets;
using OpenMosix.Daemon.Hosting;
using OpenMosix.Daemon.Measurement;

namespace OpenMosix.Daemon.Gossip;

/// <summary>
/// Moves gossip over UDP: every interval (<see cref="Round"/>) it samples the node, asks <see cref="ClusterState"/> for a
/// round and sends it; meanwhile it hands every datagram received to the state. Datagrams of any size are read whole so an
/// oversized one is counted as such rather than truncated into something that might parse.
/// </summary>
public sealed partial class GossipTransport(
    ClusterState state,
    LocalSampler sampler,
    Func<Cluster.Gossip.NodeFlags> flags,
    int port,
    ILogger logger) : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);

    /// <summary>Watches the keyring file: a rotated ring is taken at the next round, without a restart.</summary>
    public KeyringWatcher? Keys { get; init; }

    /// <summary>
    /// Binds to this node's own address when the machine has it, so datagrams leave from the address the map
    /// knows (and several nodes can share one machine on loopback addresses); otherwise to every address.
    /// </summary>
    public void Bind(IPAddress own, IReadOnlyList<IPAddress> localAddresses)
    {
        var address = IPAddress.IsLoopback(own) || localAddresses.Contains(own) ? own : IPAddress.Any;
        try
        {
            _socket.Bind(new IPEndPoint(address, port));
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AddressNotAvailable)
        {
            throw new DaemonStartException($"cannot listen for gossip on UDP {address}:{port}: {e.Message} (gossip.port)", e);
        }
        LogListening(logger, address.ToString(), port);
    }

    /// <summary>Hands every datagram received to the state until <paramref name="cancel"/> fires. Rounds are sent by
    /// <see cref="Round"/>, which omd's <see cref="NodeClock"/> calls every gossip interval.</summary>
    public Task RunAsync(CancellationToken cancel) => ReceiveLoopAsync(cancel);

    public void Dispose() => _socket.Dispose();

    /// <summary>One gossip round: this node sampled, and the packets the state chooses sent (UDP sends do not block).</summary>
    public void Round()
    {
        if (Keys?.Poll() == true)
            state.UseKeyring(Keys.Current);
        state.UpdateSelf(sampler.Sample(), sampler.Resources, flags());
        foreach (var (to, packet) in state.Tick(DateTimeOffset.UtcNow))
        {
            try
            {
                _socket.SendTo(packet, SocketFlags.None, new IPEndPoint(to, port));
            }
            catch (SocketException e)
            {
                // An unreachable peer must not stop the round for the others.
                LogSendFailed(logger, e.SocketErrorCode.ToString());
            }
        }
    }

    private Task ReceiveLoopAsync(CancellationToken cancel) =>
        UdpLoops.ReceiveAsync(_socket, 65536, (from, datagram) => state.Receive(from.Address, datagram, DateTimeOffset.UtcNow), cancel);

    [LoggerMessage(Level = LogLevel.Information, Message = "gossip listening on UDP {Address}:{Port}")]
    private static partial void LogListening(ILogger logger, string address, int port);

    [LoggerMessage(Level = LogLevel.Debug, Message = "gossip send failed: {Error}")]
    private static partial void LogSendFailed(ILogger logger, string error);
}
