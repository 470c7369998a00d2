namespace OpenMosix.Linux;

/// <summary>struct user_regs_struct of x86_64, in kernel order (27 × 8 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct UserRegs
{
    public ulong r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi, orig_rax, rip, cs, eflags,
        rsp, ss, fs_base, gs_base, ds, es, fs, gs;

    public const int Size = 27 * 8;

    public readonly byte[] ToBytes()
    {
        var bytes = new byte[Size];
        MemoryMarshal.Write(bytes, in this);
        return bytes;
    }

    public static UserRegs FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size) throw new ArgumentException($"user_regs_struct must be {Size} bytes, got {bytes.Length}");
        return MemoryMarshal.Read<UserRegs>(bytes);
    }
}
