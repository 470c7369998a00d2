using System.Buffers.Binary;

namespace OpenMosix.Linux;

/// <summary>
/// Hands a descriptor of this process to another through a unix socket (SCM_RIGHTS): the only way to put a socket into
/// a process, since pidfd_getfd only takes one out and /proc/PID/fd of a socket cannot be opened.
/// </summary>
public static class DescriptorPassing
{
    /// <summary>Bytes of the control buffer that carries one descriptor: CMSG_SPACE(sizeof(int)).</summary>
    public const int ControlBytes = 24;

    private const int SolSocket = 1, ScmRights = 1, MsgNoSignal = 0x4000;

    /// <summary>Sends one byte with <paramref name="passed"/> attached on <paramref name="socket"/>; 1, or a negated errno.</summary>
    public static unsafe long Send(SafeHandle socket, SafeHandle passed)
    {
        ArgumentNullException.ThrowIfNull(passed);
        var added = false;
        passed.DangerousAddRef(ref added);
        try
        {
            Span<byte> control = stackalloc byte[ControlBytes];
            control.Clear();
            BinaryPrimitives.WriteUInt64LittleEndian(control, 20); // cmsg_len: CMSG_LEN(sizeof(int))
            BinaryPrimitives.WriteInt32LittleEndian(control[8..], SolSocket);
            BinaryPrimitives.WriteInt32LittleEndian(control[12..], ScmRights);
            BinaryPrimitives.WriteInt32LittleEndian(control[16..], (int)passed.DangerousGetHandle());
            byte one = 1;
            Span<byte> header = stackalloc byte[56];
            header.Clear();
            fixed (byte* c = control)
            fixed (byte* h = header)
            {
                var vector = new Interop.IoVec((nint)(&one), 1);
                BinaryPrimitives.WriteInt64LittleEndian(header[16..], (long)(nint)(&vector)); // msg_iov
                BinaryPrimitives.WriteInt64LittleEndian(header[24..], 1); // msg_iovlen
                BinaryPrimitives.WriteInt64LittleEndian(header[32..], (long)(nint)c); // msg_control
                BinaryPrimitives.WriteInt64LittleEndian(header[40..], ControlBytes); // msg_controllen
                var n = Sys.Sendmsg(socket, h, MsgNoSignal);
                return n < 0 ? -(long)Errno.Last : n;
            }
        }
        finally
        {
            if (added) passed.DangerousRelease();
        }
    }

    /// <summary>The descriptor a control buffer received by recvmsg carries, or -1 when it carries none.</summary>
    public static int Received(ReadOnlySpan<byte> control) =>
        control.Length >= 20 && BinaryPrimitives.ReadUInt64LittleEndian(control) >= 20
        && BinaryPrimitives.ReadInt32LittleEndian(control[8..]) == SolSocket && BinaryPrimitives.ReadInt32LittleEndian(control[12..]) == ScmRights
            ? BinaryPrimitives.ReadInt32LittleEndian(control[16..])
            : -1;
}
