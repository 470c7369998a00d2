using System.Buffers.Binary;

namespace OpenMosix.Linux.Events;

/// <summary>
/// Reads the datagrams of the process connector: netlink messages (struct nlmsghdr) that each carry a struct cn_msg
/// whose data is a struct proc_event. Threads are left out (a clone of a thread into the same thread group, the exit
/// of a thread that is not the leader): callers follow processes. Anything short or of another kind is skipped, never
/// trusted: the bytes come from the kernel, but a parser that can be walked off its buffer is a bug waiting.
/// </summary>
public static class ProcessEventParser
{
    private const int NetlinkHeader = 16, ConnectorHeader = 20, EventHeader = 16;
    private const int EventOffset = NetlinkHeader + ConnectorHeader, DataOffset = EventOffset + EventHeader;
    private const uint ConnectorIndexProc = 1, ConnectorValueProc = 1;
    private const uint Fork = 0x1, Exec = 0x2, Exit = 0x80000000;

    /// <summary>Appends the events of one datagram to <paramref name="into"/>; returns how many it added.</summary>
    public static int Parse(ReadOnlySpan<byte> datagram, List<ProcessEvent> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        var added = 0;
        while (datagram.Length >= NetlinkHeader)
        {
            var length = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(datagram), int.MaxValue);
            if (length < NetlinkHeader || length > datagram.Length) break;
            if (TryParseOne(datagram[..length], out var parsed))
            {
                into.Add(parsed);
                added++;
            }
            var aligned = (length + 3) & ~3;
            if (aligned >= datagram.Length) break;
            datagram = datagram[aligned..];
        }
        return added;
    }

    private static int Word(ReadOnlySpan<byte> data, int index) => BinaryPrimitives.ReadInt32LittleEndian(data[(index * 4)..]);

    private static bool TryParseOne(ReadOnlySpan<byte> message, out ProcessEvent parsed)
    {
        parsed = default;
        if (message.Length < DataOffset) return false;
        var connector = message[NetlinkHeader..];
        if (BinaryPrimitives.ReadUInt32LittleEndian(connector) != ConnectorIndexProc
            || BinaryPrimitives.ReadUInt32LittleEndian(connector[4..]) != ConnectorValueProc) return false;
        var what = BinaryPrimitives.ReadUInt32LittleEndian(message[EventOffset..]);
        var when = TimeSpan.FromTicks((long)(BinaryPrimitives.ReadUInt64LittleEndian(message[(EventOffset + 8)..]) / 100));
        var data = message[DataOffset..];
        switch (what)
        {
            case Fork when data.Length >= 16:
                // parent_pid, parent_tgid, child_pid, child_tgid: a new thread has child_pid != child_tgid.
                if (Word(data, 2) != Word(data, 3)) return false;
                parsed = new ProcessEvent(ProcessEventKind.Fork, Word(data, 3), Word(data, 1), when);
                return true;
            case Exec when data.Length >= 8:
                parsed = new ProcessEvent(ProcessEventKind.Exec, Word(data, 1), 0, when);
                return true;
            case Exit when data.Length >= 24:
                // process_pid, process_tgid, exit_code, exit_signal, parent_pid, parent_tgid.
                if (Word(data, 0) != Word(data, 1)) return false;
                parsed = new ProcessEvent(ProcessEventKind.Exit, Word(data, 1), Word(data, 5), when, Word(data, 2));
                return true;
            default:
                return false;
        }
    }
}
