using Microsoft.Win32.SafeHandles;
using OpenMosix.Linux.Interop;

namespace OpenMosix.Linux;

/// <summary>
/// What a remote copy needs of its home terminal: its modes (struct termios, kept as raw bytes) and its size; and
/// the pseudo-terminal a target gives the copy in its place.
/// </summary>
public static class Terminal
{
    private const nuint TCGETS = 0x5401, TCSETS = 0x5402, TIOCGWINSZ = 0x5413, TIOCSWINSZ = 0x5414,
        TIOCGPTN = 0x80045430, TIOCSPTLCK = 0x40045431;
    public const int TermiosSize = 60, WinsizeSize = 8;
    private const int ReadWrite = 2, NoControllingTerminal = 0x100, CloseOnExec = 0x80000;
    // c_oflag at offset 4, c_lflag at offset 12 of struct termios.
    private const uint OPOST = 1, ECHO = 8;

    public static unsafe byte[]? ReadModes(SafeFileHandle tty)
    {
        var modes = new byte[TermiosSize];
        fixed (byte* p = modes)
            return Sys.Ioctl(tty, TCGETS, p) == 0 ? modes : null;
    }

    public static unsafe byte[]? ReadSize(SafeFileHandle tty)
    {
        var size = new byte[WinsizeSize];
        fixed (byte* p = size)
            return Sys.Ioctl(tty, TIOCGWINSZ, p) == 0 ? size : null;
    }

    /// <summary>
    /// A new pseudo-terminal pair (master, slave). The slave gets <paramref name="modes"/> and <paramref name="size"/>
    /// from home, but without echo and output processing: the home terminal, which the relay writes into, already
    /// echoes what is typed and translates line ends; doing it twice would double both.
    /// </summary>
    public static unsafe (SafeFileHandle Master, SafeFileHandle Slave) OpenPseudoTerminal(byte[]? modes, byte[]? size)
    {
        var master = Descriptors.Open("/dev/ptmx", ReadWrite | NoControllingTerminal | CloseOnExec);
        try
        {
            var unlock = 0;
            if (Sys.Ioctl(master, TIOCSPTLCK, &unlock) != 0) throw SyscallException.FromLastError("ioctl(TIOCSPTLCK)");
            uint number;
            if (Sys.Ioctl(master, TIOCGPTN, &number) != 0) throw SyscallException.FromLastError("ioctl(TIOCGPTN)");
            var slave = Descriptors.Open($"/dev/pts/{number}", ReadWrite | NoControllingTerminal | CloseOnExec);
            if (modes is { Length: TermiosSize })
            {
                var quiet = (byte[])modes.Clone();
                fixed (byte* p = quiet)
                {
                    *(uint*)(p + 4) &= ~OPOST;
                    *(uint*)(p + 12) &= ~ECHO;
                    if (Sys.Ioctl(slave, TCSETS, p) != 0) throw SyscallException.FromLastError("ioctl(TCSETS)");
                }
            }
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
