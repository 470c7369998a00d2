using System.Buffers.Binary;

namespace OpenMosix.Linux.Tests;

/// <summary>
/// Process connector messages laid out byte by byte as the kernel sends them (drivers/connector/cn_proc.c): a
/// struct nlmsghdr (16 bytes), a struct cn_msg (20 bytes: idx, val, seq, ack, len, flags) and a struct proc_event
/// (what, cpu, timestamp_ns, then a union of 24 bytes whatever the event), 76 bytes in all.
/// </summary>
internal static class ConnectorMessages
{
    public const uint IndexProc = 1, ValueProc = 1;
    private const int ProcEventSize = 16 + 24, NetlinkDone = 3;

    public static byte[] Fork(int parentPid, int parentTgid, int childPid, int childTgid, ulong timestampNs = 0) =>
        Message(0x1, timestampNs, [parentPid, parentTgid, childPid, childTgid]);

    public static byte[] Exec(int pid, int tgid, ulong timestampNs = 0) => Message(0x2, timestampNs, [pid, tgid]);

    public static byte[] Exit(int pid, int tgid, int exitCode, int parentPid, int parentTgid, ulong timestampNs = 0) =>
        Message(0x80000000, timestampNs, [pid, tgid, exitCode, 17 /* SIGCHLD */, parentPid, parentTgid]);

    public static byte[] Message(uint what, ulong timestampNs, int[] words, uint index = IndexProc, uint value = ValueProc)
    {
        var message = new byte[16 + 20 + ProcEventSize];
        BinaryPrimitives.WriteUInt32LittleEndian(message, (uint)message.Length); // nlmsg_len
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(4), NetlinkDone); // nlmsg_type
        var connector = message.AsSpan(16);
        BinaryPrimitives.WriteUInt32LittleEndian(connector, index);
        BinaryPrimitives.WriteUInt32LittleEndian(connector[4..], value);
        BinaryPrimitives.WriteUInt32LittleEndian(connector[8..], 77); // seq
        BinaryPrimitives.WriteUInt16LittleEndian(connector[16..], ProcEventSize); // len
        var procEvent = message.AsSpan(36);
        BinaryPrimitives.WriteUInt32LittleEndian(procEvent, what);
        BinaryPrimitives.WriteUInt32LittleEndian(procEvent[4..], 1); // cpu
        BinaryPrimitives.WriteUInt64LittleEndian(procEvent[8..], timestampNs);
        for (var i = 0; i < words.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(procEvent[(16 + 4 * i)..], words[i]);
        return message;
    }

    /// <summary>Several messages in one datagram, each starting at a 4-byte boundary (NLMSG_ALIGN).</summary>
    public static byte[] Datagram(params byte[][] messages)
    {
        var aligned = messages.Select(m => (m.Length + 3) & ~3).ToArray();
        var datagram = new byte[aligned.Sum()];
        var at = 0;
        for (var i = 0; i < messages.Length; i++)
        {
            messages[i].CopyTo(datagram, at);
            at += aligned[i];
        }
        return datagram;
    }
}
