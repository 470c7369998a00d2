using System.Buffers.Binary;
using System.Net;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests.Support;

/// <summary>One IPv4 packet seen on the wire: TCP (6) or UDP (17), its ends and its payload.</summary>
internal sealed record CapturedPacket(int Protocol, IPAddress Source, int SourcePort, IPAddress Destination, int DestinationPort, byte[] Payload);

/// <summary>
/// Everything that crosses a lab's bridge while it runs, as a man in the middle would see it: tests/Programs/sniff on
/// an AF_PACKET socket, its frames parsed down to TCP and UDP payloads.
/// </summary>
internal sealed class PacketCapture : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ChildProcess _sniffer;
    private readonly string _file;

    public PacketCapture(string device)
    {
        _file = _dir.File("capture");
        var said = _dir.File("said");
        _sniffer = ChildProcess.StartToFile(TestPrograms.Locate("sniff"), [device, "600", _file], said);
        Poll.Until(() => File.ReadAllText(said).Contains("listening", StringComparison.Ordinal), TimeSpan.FromSeconds(10), $"the capture on {device} to start");
    }

    /// <summary>Ends the capture and returns its TCP and UDP packets.</summary>
    public IReadOnlyList<CapturedPacket> Stop()
    {
        Signals.Kill(_sniffer.Pid, Signals.SIGTERM);
        Assert.Equal(new ChildExit(0, 0), _sniffer.WaitForExit(TimeSpan.FromSeconds(10)));
        var bytes = File.ReadAllBytes(_file);
        var packets = new List<CapturedPacket>();
        for (var at = 0; at + 4 <= bytes.Length;)
        {
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at));
            if (Parse(bytes.AsSpan(at + 4, length)) is { } packet) packets.Add(packet);
            at += 4 + length;
        }
        return packets;
    }

    private static CapturedPacket? Parse(ReadOnlySpan<byte> frame)
    {
        const int Ethernet = 14;
        if (frame.Length < Ethernet + 20 || BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) != 0x0800) return null;
        var ip = frame[Ethernet..];
        var headerLength = (ip[0] & 0xf) * 4;
        var total = Math.Min(BinaryPrimitives.ReadUInt16BigEndian(ip[2..]), ip.Length);
        var protocol = ip[9];
        var source = new IPAddress(ip.Slice(12, 4));
        var destination = new IPAddress(ip.Slice(16, 4));
        var transport = ip[headerLength..total];
        var payloadAt = protocol switch
        {
            6 when transport.Length >= 20 => (transport[12] >> 4) * 4,
            17 when transport.Length >= 8 => 8,
            _ => -1,
        };
        if (payloadAt < 0 || payloadAt > transport.Length) return null;
        return new CapturedPacket(protocol, source, BinaryPrimitives.ReadUInt16BigEndian(transport), destination,
            BinaryPrimitives.ReadUInt16BigEndian(transport[2..]), transport[payloadAt..].ToArray());
    }

    public void Dispose()
    {
        _sniffer.Dispose();
        _dir.Dispose();
    }
}
