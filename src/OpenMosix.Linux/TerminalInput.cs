namespace OpenMosix.Linux;

/// <summary>
/// Input a moved program was typed but did not read. The relay reads home's terminal ahead of a moved foreground job
/// (it cannot know how much the job will read, and a job that polls its terminal must see the keys), so what the job
/// leaves unread when it ends sits in its pseudo-terminal on the other node; at home it would have waited in the
/// terminal for the shell. These take it out of the pseudo-terminal there and put it back into home's terminal.
/// </summary>
public static class TerminalInput
{
    private const nuint TIOCSTI = 0x5412, TCSETS = 0x5402, TIOCGPTPEER = 0x5441, TCFLSH = 0x540B;
    private const int LocalFlags = 12, TCIFLUSH = 0;
    private const uint ISIG = 0x1, ECHO = 0x8, ECHONL = 0x40, NOFLSH = 0x80;

    /// <summary>A second open of a pseudo-terminal's slave, non-blocking and never a controlling terminal
    /// (TIOCGPTPEER): held while the program runs, it keeps the slave's input queue alive past the program's exit so
    /// that <see cref="Drain"/> can take what is left. Its own description: O_NONBLOCK here is not the program's.</summary>
    public static unsafe SafeFileHandle OpenPeer(SafeFileHandle master)
    {
        var flags = (nint)(OpenFlags.ReadWrite | OpenFlags.NoControllingTerminal | OpenFlags.NonBlock | OpenFlags.CloseOnExec);
        var fd = Sys.Ioctl(master, TIOCGPTPEER, (void*)flags);
        if (fd < 0) throw SyscallException.FromLastError("ioctl(TIOCGPTPEER)");
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>
    /// Everything still queued for reading on the slave <paramref name="peer"/> (from <see cref="OpenPeer"/>), taken
    /// out. A non-blocking read that finds nothing makes the kernel hand over what the master wrote and the line
    /// discipline has not taken in yet (its flip buffer) before it answers EAGAIN, so nothing written is missed. With
    /// EXTPROC (the relay's slaves) a read takes bytes as they came; a program that cleared EXTPROC and left the slave
    /// canonical leaves a last unfinished line behind.
    /// </summary>
    public static byte[] Drain(SafeFileHandle peer, int limit = 1 << 20)
    {
        var taken = new MemoryStream();
        var buffer = new byte[4096];
        while (taken.Length < limit)
        {
            int n;
            try
            {
                n = Descriptors.Read(peer, buffer.AsSpan(0, (int)Math.Min(buffer.Length, limit - taken.Length)));
            }
            catch (SyscallException e) when (e.Error is Errno.EAGAIN or Errno.EIO)
            {
                break;
            }
            if (n == 0) break;
            taken.Write(buffer, 0, n);
        }
        return taken.ToArray();
    }

    /// <summary>Whether a terminal with <paramref name="modes"/> throws its input away when it makes ^C, ^\ or ^Z a
    /// signal (NOFLSH clear, the default).</summary>
    public static bool FlushesOnSignal(byte[]? modes) => modes is { Length: Terminal.TermiosSize } && (BitConverter.ToUInt32(modes, LocalFlags) & NOFLSH) == 0;

    /// <summary>Throws away what is queued for reading on the slave <paramref name="peer"/> (tcflush TCIFLUSH), as a
    /// terminal does with typed-ahead keys when ^C makes a signal.</summary>
    public static unsafe void Flush(SafeFileHandle peer)
    {
        if (Sys.Ioctl(peer, TCFLSH, (void*)TCIFLUSH) != 0) throw SyscallException.FromLastError("ioctl(TCFLSH)");
    }

    /// <summary>
    /// Puts <paramref name="bytes"/> into the input queue of <paramref name="tty"/> as if typed (TIOCSTI), for its next
    /// reader. They were echoed when they were typed, so echo is off meanwhile, and so are signal characters (a byte
    /// typed in raw mode stays a byte). TIOCSTI needs CAP_SYS_ADMIN where the caller is not in the terminal's session
    /// (omd never is) or where dev.tty.legacy_tiocsti is 0; omd has it. Returns how many went in; throws when the
    /// first cannot.
    /// </summary>
    public static unsafe int PutBack(SafeFileHandle tty, ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) return 0;
        var modes = Terminal.ReadModes(tty) ?? throw new SyscallException("ioctl(TCGETS)", Errno.ENOTTY);
        var quiet = (byte[])modes.Clone();
        BitConverter.TryWriteBytes(quiet.AsSpan(LocalFlags), BitConverter.ToUInt32(modes, LocalFlags) & ~(ISIG | ECHO | ECHONL));
        fixed (byte* q = quiet)
            if (Sys.Ioctl(tty, TCSETS, q) != 0) throw SyscallException.FromLastError("ioctl(TCSETS)");
        var done = 0;
        try
        {
            fixed (byte* p = bytes)
            {
                for (; done < bytes.Length; done++)
                {
                    if (Sys.Ioctl(tty, TIOCSTI, p + done) == 0) continue;
                    if (done == 0) throw SyscallException.FromLastError("ioctl(TIOCSTI)");
                    break;
                }
            }
        }
        finally
        {
            // Not TCSETSW: output a stuck reader of the terminal never drains must not keep echo off.
            fixed (byte* m = modes)
                _ = Sys.Ioctl(tty, TCSETS, m);
        }
        return done;
    }
}
