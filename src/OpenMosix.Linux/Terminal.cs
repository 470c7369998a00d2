namespace OpenMosix.Linux;

/// <summary>
/// What a remote copy needs of its home terminal: its modes (struct termios, kept as raw bytes) and its size; and
/// the pseudo-terminal a target gives the copy in its place.
/// </summary>
public static class Terminal
{
    private const nuint TCGETS = 0x5401, TCSETS = 0x5402, TCSETSW = 0x5403, TIOCGWINSZ = 0x5413, FIONREAD = 0x541B, TIOCSWINSZ = 0x5414,
        TIOCPKT = 0x5420, TIOCGPGRP = 0x540F, TIOCGPTN = 0x80045430, TIOCSPTLCK = 0x40045431;
    public const int TermiosSize = 60, WinsizeSize = 8;
    // c_lflag at offset 12 of struct termios, c_cc from offset 17; VEOF is c_cc[4].
    private const int LocalFlags = 12, EndOfFileCharacter = 17 + 4;
    private const uint EXTPROC = 0x10000, TOSTOP = 0x100, ICANON = 0x2;
    private const int ControlCharacters = 17, VEOF = 4, VEOL = 11, VEOL2 = 16;

    /// <summary>The status byte a master in packet mode reads when the slave's modes changed (with EXTPROC set).</summary>
    public const byte PacketModesChanged = 0x40;

    /// <summary>The character that ends input in canonical mode (VEOF, usually ^D) of <paramref name="modes"/>.</summary>
    public static byte EndOfFile(byte[] modes)
    {
        ArgumentNullException.ThrowIfNull(modes);
        return modes.Length == TermiosSize ? modes[EndOfFileCharacter] : (byte)4;
    }

    /// <summary>Whether EXTPROC ("external processing") is set: the line discipline leaves echo, editing and signals
    /// to someone else (here the home terminal) and hands input over as it comes.</summary>
    public static bool HasExternalProcessing(byte[] modes)
    {
        ArgumentNullException.ThrowIfNull(modes);
        return (BitConverter.ToUInt32(modes, LocalFlags) & EXTPROC) != 0;
    }

    /// <summary>Whether TOSTOP is set: a write from a background process group of the terminal's session stops that
    /// group with SIGTTOU (unless the writer ignores or blocks it).</summary>
    public static bool StopsBackgroundWrites(byte[]? modes) => modes is { Length: TermiosSize } && (BitConverter.ToUInt32(modes, LocalFlags) & TOSTOP) != 0;

    /// <summary>Whether ICANON is set: input is read a line at a time (where EXTPROC does not make it raw).</summary>
    public static bool IsCanonical(byte[] modes)
    {
        ArgumentNullException.ThrowIfNull(modes);
        return modes.Length == TermiosSize && (BitConverter.ToUInt32(modes, LocalFlags) & ICANON) != 0;
    }

    /// <summary>The bytes that end a canonical line: newline and the EOF, EOL and EOL2 characters that are set.</summary>
    public static byte[] LineEnds(byte[] modes)
    {
        ArgumentNullException.ThrowIfNull(modes);
        var ends = new List<byte> { (byte)'\n' };
        foreach (var index in (ReadOnlySpan<int>)[VEOF, VEOL, VEOL2])
            if (modes.Length == TermiosSize && modes[ControlCharacters + index] is var c and not 0 && !ends.Contains(c)) ends.Add(c);
        return [.. ends];
    }

    /// <summary><paramref name="modes"/> with EXTPROC set or cleared.</summary>
    public static byte[] WithExternalProcessing(byte[] modes, bool on)
    {
        ArgumentNullException.ThrowIfNull(modes);
        var copy = (byte[])modes.Clone();
        var flags = BitConverter.ToUInt32(copy, LocalFlags);
        BitConverter.TryWriteBytes(copy.AsSpan(LocalFlags), on ? flags | EXTPROC : flags & ~EXTPROC);
        return copy;
    }

    /// <summary>Sets the modes of a terminal (of a pseudo-terminal's slave, through its master), after pending output
    /// is written (as tcsetattr TCSADRAIN).</summary>
    public static unsafe void WriteModes(SafeFileHandle tty, byte[] modes)
    {
        ArgumentNullException.ThrowIfNull(modes);
        if (modes.Length != TermiosSize) throw new ArgumentException($"terminal modes are {TermiosSize} bytes, not {modes.Length}", nameof(modes));
        fixed (byte* p = modes)
            if (Sys.Ioctl(tty, TCSETSW, p) != 0) throw SyscallException.FromLastError("ioctl(TCSETSW)");
    }

    public static unsafe void WriteSize(SafeFileHandle tty, byte[] size)
    {
        ArgumentNullException.ThrowIfNull(size);
        if (size.Length != WinsizeSize) throw new ArgumentException($"a window size is {WinsizeSize} bytes, not {size.Length}", nameof(size));
        fixed (byte* p = size)
            if (Sys.Ioctl(tty, TIOCSWINSZ, p) != 0) throw SyscallException.FromLastError("ioctl(TIOCSWINSZ)");
    }

    public static unsafe byte[]? ReadModes(SafeFileHandle tty)
    {
        var modes = new byte[TermiosSize];
        fixed (byte* p = modes)
            return Sys.Ioctl(tty, TCGETS, p) == 0 ? modes : null;
    }

    /// <summary>How many bytes a read would return now (FIONREAD; in canonical mode whole lines only). A reader that
    /// shares the terminal with others reads no more than that, so it never blocks on input someone else took.</summary>
    public static unsafe int QueuedInput(SafeFileHandle tty)
    {
        int queued;
        if (Sys.Ioctl(tty, FIONREAD, &queued) != 0) throw SyscallException.FromLastError("ioctl(FIONREAD)");
        return queued;
    }

    /// <summary>The foreground process group of a terminal (of a pseudo-terminal's slave, asked through its master,
    /// which any process may); 0 when it has none (not a session's controlling terminal).</summary>
    public static unsafe int ForegroundGroup(SafeFileHandle tty)
    {
        int group;
        return Sys.Ioctl(tty, TIOCGPGRP, &group) == 0 ? group : 0;
    }

    public static unsafe byte[]? ReadSize(SafeFileHandle tty)
    {
        var size = new byte[WinsizeSize];
        fixed (byte* p = size)
            return Sys.Ioctl(tty, TIOCGWINSZ, p) == 0 ? size : null;
    }

    /// <summary>
    /// A new pseudo-terminal pair (master, slave). The slave gets <paramref name="modes"/> and <paramref name="size"/>
    /// from home, plus EXTPROC: the home terminal, which the relay reads from, already echoes, edits lines and turns
    /// ^C into signals, so the slave must pass input on untouched. The master is in packet mode, where (with
    /// EXTPROC) every change of the slave's modes is reported (<see cref="PacketModesChanged"/>), so the relay can
    /// carry it to the home terminal as the program meant it.
    /// </summary>
    public static unsafe (SafeFileHandle Master, SafeFileHandle Slave) OpenPseudoTerminal(byte[]? modes, byte[]? size)
    {
        var master = Descriptors.Open("/dev/ptmx", OpenFlags.ReadWrite | OpenFlags.NoControllingTerminal);
        try
        {
            var unlock = 0;
            if (Sys.Ioctl(master, TIOCSPTLCK, &unlock) != 0) throw SyscallException.FromLastError("ioctl(TIOCSPTLCK)");
            uint number;
            if (Sys.Ioctl(master, TIOCGPTN, &number) != 0) throw SyscallException.FromLastError("ioctl(TIOCGPTN)");
            var slave = Descriptors.Open($"/dev/pts/{number}", OpenFlags.ReadWrite | OpenFlags.NoControllingTerminal);
            if ((modes is { Length: TermiosSize } ? modes : ReadModes(slave)) is { } initial)
                fixed (byte* p = WithExternalProcessing(initial, on: true))
                    if (Sys.Ioctl(slave, TCSETS, p) != 0) throw SyscallException.FromLastError("ioctl(TCSETS)");
            var packet = 1;
            if (Sys.Ioctl(master, TIOCPKT, &packet) != 0) throw SyscallException.FromLastError("ioctl(TIOCPKT)");
            if (size is { Length: WinsizeSize })
                fixed (byte* p = size)
                    if (Sys.Ioctl(slave, TIOCSWINSZ, p) != 0) throw SyscallException.FromLastError("ioctl(TIOCSWINSZ)");
            return (master, slave);
        }
        catch
        {
            master.Dispose();
            throw;
        }
    }
}
