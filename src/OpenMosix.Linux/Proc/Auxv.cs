using System.Buffers.Binary;

namespace OpenMosix.Linux.Proc;

/// <summary>The ELF auxiliary vector: (type, value) pairs of 64-bit words ending with AT_NULL.</summary>
public static class Auxv
{
    public const ulong AT_NULL = 0, AT_PHDR = 3, AT_PAGESZ = 6, AT_BASE = 7, AT_ENTRY = 9, AT_SYSINFO_EHDR = 33;

    public static Dictionary<ulong, ulong> Parse(ReadOnlySpan<byte> raw)
    {
        var result = new Dictionary<ulong, ulong>();
        for (var i = 0; i + 16 <= raw.Length; i += 16)
        {
            var type = BinaryPrimitives.ReadUInt64LittleEndian(raw[i..]);
            if (type == AT_NULL) break;
            result[type] = BinaryPrimitives.ReadUInt64LittleEndian(raw[(i + 8)..]);
        }
        return result;
    }
}
