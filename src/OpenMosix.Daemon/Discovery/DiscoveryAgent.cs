using System.Net;
using System.Net.Sockets;
using OpenMosix.Cluster.Discovery;
using OpenMosix.Cluster.Gossip.Origins;
using OpenMosix.Cluster.Keys;
using OpenMosix.Daemon.Hosting;

namespace OpenMosix.Daemon.Discovery;

/// <summary>
/// omdiscd: finds the nodes of a cluster without a map. It learns this node's id and address from the local omd,
/// multicasts them on each chosen interface every interval, listens for everyone else's, and keeps omd's map equal
/// to the nodes heard recently (loading it whenever it changes, and every few seconds in case omd restarted).
/// Announcements are encrypted under the keyring (reloaded when it rotates) and, with <paramref name="origins"/>,
/// signed by the node they announce: then only announcements signed by their node are taken.
/// </summary>
public sealed partial class DiscoveryAgent(DiscoveryOptions options, KeyringWatcher keyring, IOriginKeys? origins,
    AdminClient omd, ILogger logger) : IDisposable
{
    private static readonly TimeSpan Refresh = TimeSpan.FromSeconds(5);
    private readonly Lock _gate = new();
    private readonly Dictionary<string, long> _rejected = new(StringComparer.Ordinal);
    private DiscoveredNodes? _nodes;
    private bool _dirty = true;
    private PacketKeys _keys = PacketKeys.ForDiscovery(keyring.Current);

    public void Dispose()
    {
        lock (_gate) _keys.Dispose();
    }

    public IReadOnlyDictionary<string, long> Rejected
    {
        get
        {
            lock (_gate) return new Dictionary<string, long>(_rejected);
        }
    }

    public async Task RunAsync(CancellationToken cancel)
    {
        var self = await WaitForOmdAsync(cancel).ConfigureAwait(false);
        if (self is null) return;
        var selfAddress = IPAddress.Parse(self.Address);
        _nodes = new DiscoveredNodes((ushort)self.Node, selfAddress, options.ForgetAfter);
        var interfaces = MulticastInterface.Resolve(options.Interfaces);
        using var receiver = OpenReceiver(interfaces);
        var senders = interfaces.Select(OpenSender).ToList();
        try
        {
            LogStarted(logger, self.Node, self.Address, options.Group.ToString(), options.Port,
                string.Join(',', interfaces.Select(i => i.Name)));
            await Task.WhenAll(AnnounceLoopAsync(senders, (ushort)self.Node, selfAddress, cancel),
                UdpLoops.ReceiveAsync(receiver, 2048, (_, datagram) => Receive(datagram), cancel)).ConfigureAwait(false);
        }
        finally
        {
            foreach (var sender in senders) sender.Dispose();
        }
    }

    private async Task<Health?> WaitForOmdAsync(CancellationToken cancel)
    {
        var told = false;
        while (!cancel.IsCancellationRequested)
        {
            try
            {
                return await omd.HealthAsync(cancel).ConfigureAwait(false);
            }
            catch (AdminException e)
            {
                if (!told) LogWaiting(logger, e.Message);
                told = true;
            }
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), cancel).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        return null;
    }

    private async Task AnnounceLoopAsync(List<Socket> senders, ushort id, IPAddress address, CancellationToken cancel)
    {
        var group = new IPEndPoint(options.Group, options.Port);
        var lastPush = DateTimeOffset.MinValue;
        using var timer = new PeriodicTimer(options.Interval);
        do
        {
            var now = DateTimeOffset.UtcNow;
            byte[] packet;
            lock (_gate)
            {
                if (keyring.Poll())
                {
                    _keys.Dispose();
                    _keys = PacketKeys.ForDiscovery(keyring.Current);
                }
                packet = new Announcement(id, address, now).Encode(_keys, origins);
            }
            foreach (var sender in senders)
            {
                try
                {
                    await sender.SendToAsync(packet, SocketFlags.None, group, cancel).ConfigureAwait(false);
                }
                catch (SocketException e)
                {
                    LogSendFailed(logger, e.SocketErrorCode.ToString());
                }
            }
            string? text = null;
            lock (_gate)
            {
                if (_nodes!.Expire(now)) _dirty = true;
                if (_dirty || now - lastPush > Refresh)
                {
                    text = _nodes.ToMapText();
                    _dirty = false;
                }
            }
            if (text is not null && await PushAsync(text, cancel).ConfigureAwait(false))
                lastPush = now;
        }
        while (await UdpLoops.NextTickAsync(timer, cancel).ConfigureAwait(false));
    }

    private async Task<bool> PushAsync(string text, CancellationToken cancel)
    {
        try
        {
            var change = await omd.LoadMapAsync(new MapUpload("omdiscd", text, "omdiscd"), cancel).ConfigureAwait(false);
            if (change.Added.Count + change.Removed.Count + change.Changed.Count > 0)
                LogMapChanged(logger, string.Join(',', change.Added), string.Join(',', change.Removed));
            return true;
        }
        catch (AdminException e)
        {
            lock (_gate) _dirty = true;
            LogPushFailed(logger, e.Message);
            return false;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private void Receive(ReadOnlySpan<byte> datagram)
    {
        var now = DateTimeOffset.UtcNow;
        lock (_gate)
        {
            if (!Announcement.TryDecode(datagram, _keys, origins, now, options.ForgetAfter, out var announcement, out var reason))
            {
                _rejected[reason] = _rejected.GetValueOrDefault(reason) + 1;
                return;
            }
            if (_nodes!.Observe(announcement!.NodeId, announcement.Address, now))
                _dirty = true;
        }
    }

    private Socket OpenReceiver(IReadOnlyList<MulticastInterface> interfaces)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        socket.Bind(new IPEndPoint(IPAddress.Any, options.Port));
        foreach (var nic in interfaces)
            socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.AddMembership, new MulticastOption(options.Group, nic.Index));
        return socket;
    }

    private Socket OpenSender(MulticastInterface nic)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, nic.Address.GetAddressBytes());
        socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastTimeToLive, options.Ttl);
        return socket;
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "omdiscd: node {Node} at {Address} announcing on {Group}:{Port} via {Interfaces}")]
    private static partial void LogStarted(ILogger logger, int node, string address, string group, int port, string interfaces);

    [LoggerMessage(Level = LogLevel.Information, Message = "omdiscd: waiting for omd: {Reason}")]
    private static partial void LogWaiting(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "omdiscd: map changed: added [{Added}], removed [{Removed}]")]
    private static partial void LogMapChanged(ILogger logger, string added, string removed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "omdiscd: could not load the map into omd: {Reason}")]
    private static partial void LogPushFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "omdiscd: announcement not sent: {Error}")]
    private static partial void LogSendFailed(ILogger logger, string error);
}
