using System.Runtime.InteropServices;
using OpenMosix.Checkpoint.Restore;
using static OpenMosix.Checkpoint.Tracing.SyscallNumbers;

namespace OpenMosix.Checkpoint.Engine;

/// <summary>What home does to a deputy for the descriptors it serves to the copy.</summary>
public sealed partial class CheckpointEngine
{
    /// <summary>The descriptors of <paramref name="pid"/> a migration leaves at home and forwards (read from /proc).</summary>
    public static IReadOnlyList<int> ForwardableDescriptors(int pid, CantMove.HomePaths? homePaths = null)
    {
        var descriptors = ProcFs.ReadDescriptors(pid);
        var internalPipes = CantMove.InternalPipes.Find(pid, descriptors);
        return [.. descriptors.Where(d => FileStatus.TryOf($"/proc/{pid}/fd/{d.Fd}", out var st, out _)
                                        && CantMove.ForwardedDescriptors.IsForwarded(d.Fd, d.Target, st!.Type, internalPipes, homePaths))
            .Select(d => d.Fd)];
    }

    /// <summary>
    /// A copy restored here got a forwarded number while away (<paramref name="open"/>: a socket it made, a connection
    /// it accepted, a file opened at home, a duplicate), which its deputy holds at home under that number, or closed
    /// one: its checkpoints (its trip home) record the number as forwarded, and its analysis takes the placeholder for
    /// one, not for a unix socket of its own.
    /// </summary>
    public void ForwardsLater(int pid, int fd, bool open) => _forwarding.Later(pid, fd, open);

    /// <summary>
    /// The copy closed a forwarded descriptor: the deputy closes it too, so that the other end sees it closed (a
    /// reader at home gets end of file once no writer is left). Returns what close returned (0 or a negated errno).
    /// </summary>
    public long CloseInDeputy(int pid, int fd)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _tracer.RunBrief(pid, () =>
        {
            var trampoline = _deputies.Stop(pid);
            var regs = Ptrace.GetRegs(pid);
            try
            {
                return new SyscallInjector(pid, trampoline + StubElf.SyscallOffset, regs).Raw(Close, fd);
            }
            finally
            {
                Ptrace.SetRegs(pid, regs);
                _deputies.Resume(pid, trampoline);
            }
        });
    }

    /// <summary>
    /// Gives the deputy descriptor <paramref name="fd"/> (omd's, a connection accepted at home or another name of a
    /// forwarded one) under <paramref name="number"/>, the number its copy knows it by, so that the process finds it
    /// there when it comes home, as it finds the descriptors forwarded when it moved (docs/forwarding.md). Passed
    /// with SCM_RIGHTS over a socket pair made in the deputy, since pidfd_getfd only takes descriptors out. Returns
    /// 0 or a negated errno; whatever it made in the deputy besides <paramref name="number"/> is closed again.
    /// </summary>
    public long PutInDeputy(int pid, SafeHandle fd, int number)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(fd);
        return _tracer.RunBrief(pid, () =>
        {
            // Room for the number and for the passing's three (a socket pair and the number received).
            DeputyRoom.Ensure(pid, number, 3, _logger);
            var trampoline = _deputies.Stop(pid);
            var regs = Ptrace.GetRegs(pid);
            var injector = new SyscallInjector(pid, trampoline + StubElf.SyscallOffset, regs);
            int sending = -1, receiving = -1;
            try
            {
                // The data area: the pair's numbers at 0, a msghdr at 16, its iovec at 80, one byte at 96, the control at 112.
                var data = trampoline + StubElf.DataOffset;
                var pair = injector.Raw(SocketpairNr, AfUnix, SockDgram | SockCloexec, 0, (long)data);
                if (pair < 0) return pair;
                Span<byte> ends = stackalloc byte[8];
                ProcessMemory.Read(pid, data, ends);
                (sending, receiving) = (BinaryPrimitives.ReadInt32LittleEndian(ends), BinaryPrimitives.ReadInt32LittleEndian(ends[4..]));
                using (var process = PidFd.Open(pid))
                using (var socket = process.GetFd(sending))
                {
                    var sent = DescriptorPassing.Send(socket, fd);
                    if (sent < 0) return sent;
                }
                var message = new byte[112 + DescriptorPassing.ControlBytes];
                BinaryPrimitives.WriteUInt64LittleEndian(message.AsSpan(16 + 16), data + 80); // msg_iov
                BinaryPrimitives.WriteUInt64LittleEndian(message.AsSpan(16 + 24), 1); // msg_iovlen
                BinaryPrimitives.WriteUInt64LittleEndian(message.AsSpan(16 + 32), data + 112); // msg_control
                BinaryPrimitives.WriteUInt64LittleEndian(message.AsSpan(16 + 40), DescriptorPassing.ControlBytes); // msg_controllen
                BinaryPrimitives.WriteUInt64LittleEndian(message.AsSpan(80), data + 96);
                BinaryPrimitives.WriteUInt64LittleEndian(message.AsSpan(88), 1);
                ProcessMemory.Write(pid, data, message);
                var got = injector.Raw(RecvmsgNr, receiving, (long)(data + 16), MsgCmsgCloexec | MsgDontwait);
                if (got < 0) return got;
                ProcessMemory.Read(pid, data + 112, message.AsSpan(112));
                var received = DescriptorPassing.Received(message.AsSpan(112));
                if (received < 0) return -(long)Errno.EBADMSG;
                if (received == number) return 0;
                var placed = injector.Raw(Dup3, received, number, 0);
                injector.Raw(Close, received);
                if (placed < 0) return placed;
                // The pair took the lowest free numbers, which may be the one wanted: dup3 closed that end already, and
                // closing it again below closed the descriptor just placed (the process came home without it).
                if (sending == number) sending = -1;
                if (receiving == number) receiving = -1;
                return 0;
            }
            finally
            {
                if (sending >= 0) injector.Raw(Close, sending);
                if (receiving >= 0) injector.Raw(Close, receiving);
                Ptrace.SetRegs(pid, regs);
                _deputies.Resume(pid, trampoline);
            }
        });
    }

    /// <summary>
    /// Moves the deputy's descriptor <paramref name="from"/> (one it just made for its copy: a socket, a file) to
    /// <paramref name="number"/>, the number its copy knows it by (dup3, then close): the process finds it there when
    /// it comes home. Returns 0 or a negated errno (then <paramref name="from"/> is closed all the same).
    /// </summary>
    public long MoveInDeputy(int pid, int from, int number)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _tracer.RunBrief(pid, () =>
        {
            DeputyRoom.Ensure(pid, number, 0, _logger);
            var trampoline = _deputies.Stop(pid);
            var regs = Ptrace.GetRegs(pid);
            try
            {
                if (from == number) return 0;
                var injector = new SyscallInjector(pid, trampoline + StubElf.SyscallOffset, regs);
                var placed = injector.Raw(Dup3, from, number, 0);
                injector.Raw(Close, from);
                return placed < 0 ? placed : 0;
            }
            finally
            {
                Ptrace.SetRegs(pid, regs);
                _deputies.Resume(pid, trampoline);
            }
        });
    }

    private const long SocketpairNr = 53, RecvmsgNr = 47, AfUnix = 1, SockDgram = 2, MsgCmsgCloexec = 0x40000000, MsgDontwait = 0x40, SockCloexec = 0x80000;
}
