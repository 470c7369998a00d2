using System.Globalization;

namespace OpenMosix.Checkpoint.CantMove;

/// <summary>Socket inodes of this network namespace by protocol (/proc/net/*), to name a socket in a reason.</summary>
internal sealed class SocketTable
{
    private readonly Dictionary<ulong, string> _kinds = [];

    public static SocketTable Read()
    {
        var table = new SocketTable();
        table.Load("/proc/net/tcp", "TCP socket", 9);
        table.Load("/proc/net/tcp6", "TCP socket", 9);
        table.Load("/proc/net/udp", "UDP socket", 9);
        table.Load("/proc/net/udp6", "UDP socket", 9);
        table.Load("/proc/net/raw", "raw socket", 9);
        table.Load("/proc/net/raw6", "raw socket", 9);
        table.Load("/proc/net/unix", "unix socket", 6);
        table.Load("/proc/net/netlink", "netlink socket", 9);
        return table;
    }

    public string Describe(string target)
    {
        var open = target.IndexOf('[', StringComparison.Ordinal);
        var close = target.IndexOf(']', StringComparison.Ordinal);
        if (open >= 0 && close > open
            && ulong.TryParse(target.AsSpan(open + 1, close - open - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var inode)
            && _kinds.TryGetValue(inode, out var kind))
            return kind;
        return "socket";
    }

    private void Load(string path, string kind, int inodeColumn)
    {
        try
        {
            foreach (var line in File.ReadLines(path).Skip(1))
            {
                var cols = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (cols.Length > inodeColumn && ulong.TryParse(cols[inodeColumn], NumberStyles.None, CultureInfo.InvariantCulture, out var inode) && inode != 0)
                    _kinds.TryAdd(inode, kind);
            }
        }
        catch (IOException)
        {
            // protocol not present in this kernel or namespace
        }
    }
}
