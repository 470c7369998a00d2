using System.Buffers.Text;
using System.Text;

namespace OpenMosix.Linux.Proc;

/// <summary>The machine's memory from /proc/meminfo, in bytes.</summary>
public sealed record MemInfo(ulong Total, ulong Available)
{
    // /proc/meminfo is about 1.5 KiB; the kernel hands it over whole to a read this large.
    private const int ReadSize = 8192;

    /// <summary>
    /// Reads it without a string: omd's memory watch does so five times a second, and splitting the ~55 lines into
    /// strings was a tenth of an idle omd's CPU, most of it in the garbage collections those strings brought on.
    /// </summary>
    public static MemInfo Read()
    {
        using var file = File.OpenHandle("/proc/meminfo");
        Span<byte> buffer = stackalloc byte[ReadSize];
        var length = RandomAccess.Read(file, buffer, 0);
        return Parse(buffer[..length]);
    }

    public static MemInfo Parse(string text) => Parse(Encoding.ASCII.GetBytes(text));

    public static MemInfo Parse(ReadOnlySpan<byte> text)
    {
        ulong? total = null, available = null;
        while (text.Length > 0)
        {
            var end = text.IndexOf((byte)'\n');
            var line = end < 0 ? text : text[..end];
            text = end < 0 ? [] : text[(end + 1)..];
            if (line.StartsWith("MemTotal:"u8)) total = Kibibytes(line["MemTotal:".Length..]) * 1024;
            else if (line.StartsWith("MemAvailable:"u8)) available = Kibibytes(line["MemAvailable:".Length..]) * 1024;
        }
        if (total is null) throw new FormatException("/proc/meminfo has no MemTotal line");
        return new MemInfo(total.Value, available ?? 0);
    }

    private static ulong Kibibytes(ReadOnlySpan<byte> field)
    {
        field = field.TrimStart((byte)' ');
        if (!Utf8Parser.TryParse(field, out ulong value, out var used) || (used < field.Length && field[used] != (byte)' '))
            throw new FormatException($"/proc/meminfo has a malformed figure '{Encoding.ASCII.GetString(field)}'");
        return value;
    }
}
