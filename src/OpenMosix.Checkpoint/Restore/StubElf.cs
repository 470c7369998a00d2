namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// The stub a restore starts from: a minimal static ELF generated per image. Its first segment (RWX, at a
/// trampoline address free in the image) holds a `pause` loop whose `syscall` is used for injection, and scratch
/// space for syscall arguments. Its second segment ends exactly at the image's start_brk, so the kernel puts the
/// new process's break there and an injected brk() can rebuild a real, growable [heap].
/// </summary>
internal static class StubElf
{
    public const ulong TrampolineSize = 0x10000;
    /// <summary>Offset of the argument scratch area inside the trampoline segment.</summary>
    public const ulong DataOffset = 0x1000;
    private const int HeaderSize = 64, ProgramHeaderSize = 56, CodeOffset = HeaderSize + 2 * ProgramHeaderSize;
    /// <summary>Offset of the `syscall` instruction of the entry loop.</summary>
    public const ulong SyscallOffset = CodeOffset + 5;
    /// <summary>Offset of the entry of the `pause` loop.</summary>
    public const ulong EntryOffset = CodeOffset;

    // entry: mov eax, 34 (pause); syscall; jmp entry
    private static readonly byte[] Code = [0xb8, 0x22, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xeb, 0xf7];

    /// <param name="trampoline">page-aligned address of the trampoline segment.</param>
    /// <param name="brkStart">the image's start_brk (page-aligned), or 0 to let the kernel choose.</param>
    public static byte[] Build(ulong trampoline, ulong brkStart)
    {
        var segments = brkStart != 0 ? 2 : 1;
        var fileSize = CodeOffset + Code.Length;
        var f = new byte[fileSize];
        // ELF header
        f[0] = 0x7f; f[1] = (byte)'E'; f[2] = (byte)'L'; f[3] = (byte)'F';
        f[4] = 2; // ELFCLASS64
        f[5] = 1; // little endian
        f[6] = 1; // EV_CURRENT
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(16), 2);    // ET_EXEC
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(18), 62);   // EM_X86_64
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(20), 1);    // EV_CURRENT
        BinaryPrimitives.WriteUInt64LittleEndian(f.AsSpan(24), trampoline + CodeOffset); // e_entry
        BinaryPrimitives.WriteUInt64LittleEndian(f.AsSpan(32), HeaderSize);              // e_phoff
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(52), HeaderSize);              // e_ehsize
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(54), ProgramHeaderSize);       // e_phentsize
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(56), (ushort)segments);        // e_phnum
        WriteLoad(f.AsSpan(HeaderSize), flags: 7, trampoline, (ulong)fileSize, TrampolineSize);
        if (brkStart != 0) WriteLoad(f.AsSpan(HeaderSize + ProgramHeaderSize), flags: 6, brkStart - 0x1000, (ulong)fileSize, 0x1000);
        Code.CopyTo(f.AsSpan(CodeOffset));
        return f;
    }

    /// <summary>Writes the `pause` loop into an already mapped, writable trampoline of another process (a deputy).</summary>
    public static void WriteCode(int pid, ulong trampoline) =>
        OpenMosix.Linux.ProcessMemory.Write(pid, trampoline + CodeOffset, Code);

    private static void WriteLoad(Span<byte> ph, uint flags, ulong address, ulong fileSize, ulong memorySize)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(ph, 1);             // PT_LOAD
        BinaryPrimitives.WriteUInt32LittleEndian(ph[4..], flags);    // PF_R=4 PF_W=2 PF_X=1
        BinaryPrimitives.WriteUInt64LittleEndian(ph[8..], 0);        // p_offset
        BinaryPrimitives.WriteUInt64LittleEndian(ph[16..], address); // p_vaddr
        BinaryPrimitives.WriteUInt64LittleEndian(ph[24..], address); // p_paddr
        BinaryPrimitives.WriteUInt64LittleEndian(ph[32..], fileSize);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[40..], memorySize);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[48..], 0x1000);  // p_align
    }
}
