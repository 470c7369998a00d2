using System.Buffers.Binary;

namespace OpenMosix.Linux.Events;

/// <summary>
/// The kernel's process connector: fork, exec and exit of every process, as they happen, from a netlink socket
/// (root only). The processes it reports pay nothing for it: the kernel queues a small datagram per event, and only
/// those three kinds are asked for (kernels since 6.6 filter the rest before queueing them). A reader that falls behind
/// gets <see cref="ProcessEventKind.Lost"/> when the kernel drops events.
/// </summary>
public sealed class ProcessEventSource : IDisposable
{
    private const int ReceiveBuffer = 4 << 20;
    private const uint ListenOperation = 1, Wanted = 0x1 | 0x2 | 0x80000000;
    private readonly SafeFileHandle _socket;
    private readonly byte[] _buffer = new byte[16 << 10];

    private ProcessEventSource(SafeFileHandle socket) => _socket = socket;

    /// <summary>Subscribes to the connector; throws <see cref="SyscallException"/> where it cannot be had (not root,
    /// no CONFIG_PROC_EVENTS, no access to the initial network namespace).</summary>
    public static unsafe ProcessEventSource Open()
    {
        var socket = InitialNetworkNamespace.Run(() =>
            Sys.Socket(Sys.AF_NETLINK, Sys.SOCK_DGRAM | Sys.SOCK_CLOEXEC, Sys.NETLINK_CONNECTOR).OrThrow("socket", "process connector"));
        try
        {
            var address = new SockAddrNetlink { Family = Sys.AF_NETLINK, Groups = 1 };
            if (Sys.Bind(socket, &address, (uint)sizeof(SockAddrNetlink)) != 0) throw SyscallException.FromLastError("bind");
            // A bigger queue rides out a burst of forks while omd is busy elsewhere; refused, the default is kept.
            var size = ReceiveBuffer;
            _ = Sys.Setsockopt(socket, Sys.SOL_SOCKET, Sys.SO_RCVBUFFORCE, &size, sizeof(int));
            // The plain request first (every kernel takes it), then the filtered one, which kernels before 6.6
            // ignore: they deliver every kind of event, which the parser skips.
            Subscribe(socket, filtered: false);
            Subscribe(socket, filtered: true);
            return new ProcessEventSource(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static unsafe void Subscribe(SafeFileHandle socket, bool filtered)
    {
        Span<byte> message = stackalloc byte[16 + 20 + (filtered ? 8 : 4)];
        message.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(message, (uint)message.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(message[4..], 3); // NLMSG_DONE: the connector's requests are single
        var connector = message[16..];
        BinaryPrimitives.WriteUInt32LittleEndian(connector, 1); // CN_IDX_PROC
        BinaryPrimitives.WriteUInt32LittleEndian(connector[4..], 1); // CN_VAL_PROC
        BinaryPrimitives.WriteUInt16LittleEndian(connector[16..], (ushort)(filtered ? 8 : 4)); // struct proc_input, or the op alone
        BinaryPrimitives.WriteUInt32LittleEndian(connector[20..], ListenOperation);
        if (filtered) BinaryPrimitives.WriteUInt32LittleEndian(connector[24..], Wanted);
        fixed (byte* bytes = message)
        {
            if (Sys.Send(socket, bytes, (nuint)message.Length, 0) < 0) throw SyscallException.FromLastError("send");
        }
    }

    /// <summary>Waits at most <paramref name="wait"/> for events and appends all that are queued now; returns how many
    /// it added (0 after a quiet wait).</summary>
    public unsafe int Receive(List<ProcessEvent> into, TimeSpan wait)
    {
        ArgumentNullException.ThrowIfNull(into);
        if (!Readiness.WaitReadable(_socket, wait)) return 0;
        var added = 0;
        while (true)
        {
            nint length;
            fixed (byte* bytes = _buffer)
                length = Sys.Recv(_socket, bytes, (nuint)_buffer.Length, Sys.MSG_DONTWAIT);
            if (length < 0)
            {
                var errno = Errno.Last;
                if (errno is Errno.EAGAIN or Errno.EINTR) return added;
                if (errno != Errno.ENOBUFS) throw new SyscallException("recv", errno, "process connector");
                into.Add(new ProcessEvent(ProcessEventKind.Lost, 0, 0, TimeSpan.Zero));
                added++;
                continue;
            }
            added += ProcessEventParser.Parse(_buffer.AsSpan(0, (int)length), into);
        }
    }

    public void Dispose() => _socket.Dispose();
}
