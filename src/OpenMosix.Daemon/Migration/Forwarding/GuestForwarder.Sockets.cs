using System.Buffers.Binary;
using OpenMosix.Linux.Interop;
using OpenMosix.Linux.Seccomp;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>
/// Socket calls: send and receive families (addresses carried both ways; descriptors passed in control messages are
/// refused with EOPNOTSUPP), shutdown, options, names, and accept, whose connection becomes a forwarded descriptor
/// of its own under a number of the reserved range, installed into the copy with SECCOMP_IOCTL_NOTIF_ADDFD; and the
/// sockets the copy makes while away, of the internet families, made at home by the deputy (as openMosix made them)
/// and forwarded from then on in the same way, connect, bind and listen included.
/// </summary>
internal sealed partial class GuestForwarder
{
    private const int MsgHeaderSize = 56, SockCloexec = 0x80000;

    /// <summary>Home makes the copy's new internet sockets (its omd.toml's forwarding.sockets_created_away, told in the
    /// offer); false: they are this node's, and the filter does not hand socket over at all.</summary>
    public bool SocketsAtHome { get; init; }

    /// <summary>
    /// socket of a family the filter hands over (AF_INET, AF_INET6): made at home by the deputy, so that it has home's
    /// network namespace (its addresses, routes, loopback) and the process's own credentials check it (a raw socket
    /// needs CAP_NET_RAW as at home); it becomes a forwarded descriptor as an accepted connection does. Null for
    /// another call. A child forked here (it inherited the filter), or a copy whose home makes no sockets (a filter
    /// built by an omd that did), makes its sockets here.
    /// </summary>
    private Task<Outcome>? ServeSocketCreation(SeccompNotice n)
    {
        if (n.Nr != SyscallNr.Socket) return null;
        var family = (int)(uint)n.Args[0];
        if (!SocketsAtHome || Array.IndexOf(ForwardingFilter.HomeSocketFamilies, family) < 0 || !Directory.Exists($"/proc/{_pid}/task/{n.Pid}"))
            return Task.FromResult(Outcome.RunLocally);
        var type = (long)(uint)n.Args[1];
        return NewDescriptorAsync(n, number => new ForwardRequest(0, ForwardOp.Socket, number, family, type, (long)(uint)n.Args[2]),
            (type & SockCloexec) != 0, done => done.Number);
    }

    private Task<Outcome> ServeSocketAsync(SeccompNotice n, int fd)
    {
        var a = n.Args;
        return n.Nr switch
        {
            SyscallNr.Sendto => WriteAsync(n, fd, [(a[1], a[2])], ForwardOp.Send, (int)a[3], ReadAddress(a[4], a[5])),
            SyscallNr.Recvfrom => ReadAsync(n, fd, [(a[1], a[2])], ForwardOp.Receive, flags: (int)a[3], wantAddress: a[4] != 0 && a[5] != 0,
                afterwards: (address, received) => PutAddress(address.Span, a[4], a[5], received)),
            SyscallNr.Sendmsg => SendMessageAsync(n, fd, a[1], (int)a[2]),
            SyscallNr.Recvmsg => ReceiveMessageAsync(n, fd, a[1], (int)a[2]),
            SyscallNr.Shutdown => SimpleAsync(new ForwardRequest(0, ForwardOp.Shutdown, fd, (long)a[1])),
            SyscallNr.Getsockname or SyscallNr.Getpeername => NameAsync(fd, n.Nr == SyscallNr.Getpeername, a[1], a[2]),
            SyscallNr.Getsockopt => GetOptionAsync(fd, (long)a[1], (long)a[2], a[3], a[4]),
            SyscallNr.Setsockopt => SetOptionAsync(fd, (long)a[1], (long)a[2], a[3], a[4]),
            SyscallNr.Connect => AddressCallAsync(fd, ForwardOp.Connect, a[1], a[2]),
            SyscallNr.Bind => AddressCallAsync(fd, ForwardOp.Bind, a[1], a[2]),
            SyscallNr.Listen => SimpleAsync(new ForwardRequest(0, ForwardOp.Listen, fd, (int)(uint)a[1])),
            SyscallNr.Accept => AcceptAsync(n, fd, a[1], a[2], 0),
            SyscallNr.Accept4 => AcceptAsync(n, fd, a[1], a[2], (int)a[3]),
            _ => Task.FromResult(Outcome.RunLocally),
        };
    }

    /// <summary>connect or bind with the program's address, carried out at home on its socket there.</summary>
    private Task<Outcome> AddressCallAsync(int fd, ForwardOp op, ulong address, ulong length) =>
        length is 0 or > ForwardedCalls.MaxAddress
            ? Task.FromResult(new Outcome(-(long)Errno.EINVAL))
            : SimpleAsync(new ForwardRequest(0, op, fd) { Address = ReadAddress(address, length) });

    private ReadOnlyMemory<byte> ReadAddress(ulong address, ulong length)
    {
        if (address == 0 || length == 0) return ReadOnlyMemory<byte>.Empty;
        if (length > ForwardedCalls.MaxAddress) throw new SyscallException("sendto", Errno.EINVAL);
        var bytes = new byte[(int)length];
        ProcessMemory.Read(_pid, address, bytes);
        return bytes;
    }

    /// <summary>Writes an address into the copy's buffer as the kernel does: truncated to its room, the full length
    /// in its length word. Returns <paramref name="result"/>.</summary>
    private long PutAddress(ReadOnlySpan<byte> address, ulong buffer, ulong lengthAt, long result)
    {
        if (buffer == 0 || lengthAt == 0) return result;
        Span<byte> word = stackalloc byte[4];
        ProcessMemory.Read(_pid, lengthAt, word);
        var room = BinaryPrimitives.ReadInt32LittleEndian(word);
        if (room < 0) throw new SyscallException("address", Errno.EINVAL);
        ProcessMemory.Write(_pid, buffer, address[..Math.Min(room, address.Length)]);
        BinaryPrimitives.WriteInt32LittleEndian(word, address.Length);
        ProcessMemory.Write(_pid, lengthAt, word);
        return result;
    }

    private readonly record struct MessageHeader(ulong Name, uint NameLength, ulong IoVecs, ulong IoVecCount, ulong ControlLength);

    private MessageHeader ReadMessageHeader(ulong at)
    {
        var raw = new byte[MsgHeaderSize];
        ProcessMemory.Read(_pid, at, raw);
        return new MessageHeader(BinaryPrimitives.ReadUInt64LittleEndian(raw), BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(8)),
            BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan(16)), BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan(24)),
            BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan(40)));
    }

    private Task<Outcome> SendMessageAsync(SeccompNotice n, int fd, ulong header, int flags)
    {
        var m = ReadMessageHeader(header);
        // Descriptors (SCM_RIGHTS) and credentials cannot be passed through home.
        if (m.ControlLength > 0) return Task.FromResult(new Outcome(-(long)Errno.EOPNOTSUPP));
        return WriteAsync(n, fd, ReadIoVecs(m.IoVecs, m.IoVecCount), ForwardOp.Send, flags, ReadAddress(m.Name, m.NameLength));
    }

    private Task<Outcome> ReceiveMessageAsync(SeccompNotice n, int fd, ulong header, int flags)
    {
        var m = ReadMessageHeader(header);
        return ReadAsync(n, fd, ReadIoVecs(m.IoVecs, m.IoVecCount), ForwardOp.Receive, flags: flags, wantAddress: m.Name != 0, afterwards: (address, received) =>
        {
            if (m.Name != 0) ProcessMemory.Write(_pid, m.Name, address.Span[..Math.Min((int)m.NameLength, address.Length)]);
            Span<byte> fields = stackalloc byte[8];
            BinaryPrimitives.WriteInt32LittleEndian(fields, m.Name != 0 ? address.Length : 0);
            ProcessMemory.Write(_pid, header + 8, fields[..4]);
            fields.Clear();
            ProcessMemory.Write(_pid, header + 40, fields); // msg_controllen: no control messages
            ProcessMemory.Write(_pid, header + 48, fields[..4]); // msg_flags
            return received;
        });
    }

    private async Task<Outcome> NameAsync(int fd, bool peer, ulong buffer, ulong lengthAt)
    {
        var reply = await CallAsync(new ForwardRequest(0, peer ? ForwardOp.PeerName : ForwardOp.SocketName, fd)).ConfigureAwait(false);
        return new(reply.Result < 0 ? reply.Result : PutAddress(reply.Extra.Span, buffer, lengthAt, 0));
    }

    private async Task<Outcome> GetOptionAsync(int fd, long level, long name, ulong value, ulong lengthAt)
    {
        Span<byte> word = stackalloc byte[4];
        ProcessMemory.Read(_pid, lengthAt, word);
        var room = Math.Clamp(BinaryPrimitives.ReadInt32LittleEndian(word), 0, ForwardWire.MaxExtra);
        var reply = await CallAsync(new ForwardRequest(0, ForwardOp.GetOption, fd, level, name, room)).ConfigureAwait(false);
        return new(reply.Result < 0 ? reply.Result : PutAddress(reply.Extra.Span, value, lengthAt, reply.Result));
    }

    private async Task<Outcome> SetOptionAsync(int fd, long level, long name, ulong value, ulong length)
    {
        if (length > ForwardWire.MaxExtra) return new(-(long)Errno.EINVAL);
        var bytes = new byte[(int)length];
        if (length > 0) ProcessMemory.Read(_pid, value, bytes);
        return new((await CallAsync(new ForwardRequest(0, ForwardOp.SetOption, fd, level, name) { Data = bytes }).ConfigureAwait(false)).Result);
    }

    /// <summary>A connection accepted at home becomes a forwarded descriptor of its own (<see cref="NewDescriptorAsync"/>).</summary>
    private Task<Outcome> AcceptAsync(SeccompNotice n, int fd, ulong address, ulong lengthAt, int flags) =>
        NewDescriptorAsync(n, number => new ForwardRequest(0, ForwardOp.Accept, fd, flags, number), (flags & SockCloexec) != 0,
            done => PutAddress(done.Reply.Extra.Span, address, lengthAt, done.Number));

    /// <summary>A free number of the reserved range, at least <paramref name="lowest"/>; -1 when none is.</summary>
    private int FreeReservedNumber(int lowest)
    {
        lock (_open)
        {
            for (var number = _reservedTop - 1; number >= Math.Max(_reservedFrom, lowest); number--)
                if (!_open.Contains(number) && !_keyOf.ContainsKey(number) && !FileStatus.TryOf($"/proc/{_pid}/fd/{number}", out _, out _)) return number;
        }
        return -1;
    }
}
