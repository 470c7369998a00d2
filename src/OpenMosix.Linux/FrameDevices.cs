using System.Buffers.Binary;
using System.Globalization;

namespace OpenMosix.Linux;

/// <summary>
/// Whole Ethernet frames in and out of a link from user space, for a relay that stands between two links (the lab's
/// delay without netem): a packet socket bound to one link, a tap device that is the other. Both carry a virtio-net
/// header before each frame, the same on either side, so a frame the kernel left to offloads (a 64 KiB TCP segment,
/// a checksum to be filled in) crosses the relay as it is and the kernel finishes it where it is written; without the
/// header such a frame would be dropped or arrive with a wrong checksum.
/// </summary>
public static class FrameDevices
{
    /// <summary>Bytes of the virtio-net header before every frame read or written (struct virtio_net_hdr).</summary>
    public const int HeaderLength = 10;

    private const int AF_PACKET = 17, SOCK_RAW = 3, ETH_P_ALL = 0x0003, SOL_PACKET = 263;
    private const int PACKET_VNET_HDR = 15, PACKET_IGNORE_OUTGOING = 23;
    private const nuint TUNSETIFF = 0x400454ca;
    private const short IFF_TAP = 0x0002, IFF_NO_PI = 0x1000, IFF_VNET_HDR = 0x4000;
    private const int IfNameSize = 16, IfreqSize = 40, SockAddrLlSize = 20;

    /// <summary>A packet socket that reads every frame arriving on <paramref name="link"/> (none it sends itself) and
    /// sends frames out of it.</summary>
    public static unsafe SafeFileHandle OpenPacketSocket(string link)
    {
        var index = int.Parse(File.ReadAllText($"/sys/class/net/{link}/ifindex").Trim(), CultureInfo.InvariantCulture);
        var protocol = BinaryPrimitives.ReverseEndianness((ushort)ETH_P_ALL);
        var socket = Sys.Socket(AF_PACKET, SOCK_RAW | Sys.SOCK_CLOEXEC, protocol).OrThrow("socket", $"a packet socket for {link}");
        try
        {
            var on = 1;
            if (Sys.Setsockopt(socket, SOL_PACKET, PACKET_VNET_HDR, &on, sizeof(int)) != 0) throw SyscallException.FromLastError("setsockopt(PACKET_VNET_HDR)");
            if (Sys.Setsockopt(socket, SOL_PACKET, PACKET_IGNORE_OUTGOING, &on, sizeof(int)) != 0) throw SyscallException.FromLastError("setsockopt(PACKET_IGNORE_OUTGOING)");
            var address = stackalloc byte[SockAddrLlSize];
            new Span<byte>(address, SockAddrLlSize).Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(new Span<byte>(address, 2), AF_PACKET);
            BinaryPrimitives.WriteUInt16LittleEndian(new Span<byte>(address + 2, 2), protocol);
            BinaryPrimitives.WriteInt32LittleEndian(new Span<byte>(address + 4, 4), index);
            if (Sys.Bind(socket, address, SockAddrLlSize) != 0) throw SyscallException.FromLastError("bind");
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Creates the tap device <paramref name="name"/> (gone when the handle is closed) and opens it: what is
    /// written comes out of the link, what the link is sent is read.</summary>
    public static unsafe SafeFileHandle OpenTap(string name)
    {
        if (name.Length is 0 or >= IfNameSize) throw new ArgumentException($"'{name}' is not a link name", nameof(name));
        var tap = Sys.Open("/dev/net/tun", OpenFlags.ReadWrite | OpenFlags.CloseOnExec, 0).OrThrow("open", "/dev/net/tun");
        try
        {
            var request = stackalloc byte[IfreqSize];
            var span = new Span<byte>(request, IfreqSize);
            span.Clear();
            System.Text.Encoding.ASCII.GetBytes(name, span);
            BinaryPrimitives.WriteInt16LittleEndian(span[IfNameSize..], IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);
            if (Sys.Ioctl(tap, TUNSETIFF, request) != 0) throw SyscallException.FromLastError($"ioctl(TUNSETIFF {name})");
            return tap;
        }
        catch
        {
            tap.Dispose();
            throw;
        }
    }

    /// <summary>One frame, its header first, into <paramref name="buffer"/>; waits for it. Returns its length.</summary>
    public static unsafe int Read(SafeFileHandle device, Span<byte> buffer)
    {
        while (true)
        {
            nint read;
            fixed (byte* p = buffer) read = Sys.Read(device, p, (nuint)buffer.Length);
            if (read >= 0) return (int)read;
            if (Errno.Last != Errno.EINTR) throw SyscallException.FromLastError("read");
        }
    }

    /// <summary>Writes one frame, its header first. False when the kernel refused this one frame (no room, too large,
    /// the link down for a moment): a link may drop a frame, and the relay goes on.</summary>
    public static unsafe bool Write(SafeFileHandle device, ReadOnlySpan<byte> frame)
    {
        while (true)
        {
            nint written;
            fixed (byte* p = frame) written = Sys.Write(device, p, (nuint)frame.Length);
            if (written >= 0) return true;
            var error = Errno.Last;
            if (error == Errno.EINTR) continue;
            if (error is Errno.ENOBUFS or Errno.EAGAIN or Errno.EMSGSIZE or Errno.ENETDOWN or Errno.EINVAL or Errno.EIO) return false;
            throw new SyscallException("write", error);
        }
    }
}
