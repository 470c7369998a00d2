using System.Buffers.Binary;

namespace OpenMosix.Linux.Seccomp;

/// <summary>
/// The supervisor's side of a seccomp listener: receive a notified call, check it is still waiting, answer it with
/// a result (or let the kernel run it after all), and install a descriptor into the process.
/// </summary>
public static class SeccompListener
{
    private const nuint NotifRecv = 0xc0502100, NotifSend = 0xc0182101, NotifIdValid = 0x40082102, NotifAddFd = 0x40182103;
    private const int NoticeSize = 80, ResponseSize = 24, AddFdSize = 24;
    private const uint FlagContinue = 1, AddFdFlagSetFd = 1;

    /// <summary>The next notified call; null when the listener has none ready (ENOENT: the caller was interrupted, or EAGAIN).</summary>
    public static unsafe SeccompNotice? Receive(SafeFileHandle listener)
    {
        Span<byte> notice = stackalloc byte[NoticeSize];
        notice.Clear();
        fixed (byte* p = notice)
        {
            if (Sys.Ioctl(listener, NotifRecv, p) < 0)
            {
                var errno = Errno.Last;
                if (errno is Errno.ENOENT or Errno.EAGAIN or Errno.EINTR) return null;
                throw new SyscallException("ioctl(SECCOMP_IOCTL_NOTIF_RECV)", errno);
            }
        }
        var args = new ulong[6];
        for (var i = 0; i < 6; i++) args[i] = BinaryPrimitives.ReadUInt64LittleEndian(notice[(32 + 8 * i)..]);
        return new SeccompNotice(BinaryPrimitives.ReadUInt64LittleEndian(notice), BinaryPrimitives.ReadInt32LittleEndian(notice[8..]),
            BinaryPrimitives.ReadInt32LittleEndian(notice[16..]), args);
    }

    /// <summary>Whether the call is still waiting for its answer: its process's memory may be touched only then.</summary>
    public static unsafe bool IsValid(SafeFileHandle listener, ulong id) => Sys.Ioctl(listener, NotifIdValid, &id) == 0;

    /// <summary>Answers the call: <paramref name="result"/> is what it returns, a negated errno for a failure. False
    /// when the call is no longer waiting (a signal interrupted it).</summary>
    public static bool Answer(SafeFileHandle listener, ulong id, long result) =>
        result < 0 ? Send(listener, id, 0, (int)-result, 0) : Send(listener, id, result, 0, 0);

    /// <summary>Lets the kernel carry out the call as if it had not been notified.</summary>
    public static bool Continue(SafeFileHandle listener, ulong id) => Send(listener, id, 0, 0, FlagContinue);

    private static unsafe bool Send(SafeFileHandle listener, ulong id, long value, int error, uint flags)
    {
        Span<byte> response = stackalloc byte[ResponseSize];
        BinaryPrimitives.WriteUInt64LittleEndian(response, id);
        BinaryPrimitives.WriteInt64LittleEndian(response[8..], value);
        BinaryPrimitives.WriteInt32LittleEndian(response[16..], -error);
        BinaryPrimitives.WriteUInt32LittleEndian(response[20..], flags);
        fixed (byte* p = response)
        {
            if (Sys.Ioctl(listener, NotifSend, p) == 0) return true;
        }
        var errno = Errno.Last;
        if (errno == Errno.ENOENT) return false;
        throw new SyscallException("ioctl(SECCOMP_IOCTL_NOTIF_SEND)", errno);
    }

    /// <summary>Installs <paramref name="source"/> into the notifying process as descriptor <paramref name="number"/>
    /// (replacing what it held there); returns the number.</summary>
    public static unsafe int AddDescriptor(SafeFileHandle listener, ulong id, SafeFileHandle source, int number, bool closeOnExec)
    {
        Span<byte> add = stackalloc byte[AddFdSize];
        BinaryPrimitives.WriteUInt64LittleEndian(add, id);
        BinaryPrimitives.WriteUInt32LittleEndian(add[8..], AddFdFlagSetFd);
        BinaryPrimitives.WriteUInt32LittleEndian(add[12..], (uint)source.DangerousGetHandle());
        BinaryPrimitives.WriteUInt32LittleEndian(add[16..], (uint)number);
        BinaryPrimitives.WriteUInt32LittleEndian(add[20..], closeOnExec ? (uint)OpenFlags.CloseOnExec : 0);
        fixed (byte* p = add)
        {
            var result = Sys.Ioctl(listener, NotifAddFd, p);
            return result >= 0 ? result : throw new SyscallException("ioctl(SECCOMP_IOCTL_NOTIF_ADDFD)", Errno.Last);
        }
    }
}
