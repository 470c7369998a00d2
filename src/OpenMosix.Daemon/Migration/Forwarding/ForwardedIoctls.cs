namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>
/// The ioctls carried out at home on a forwarded descriptor, and what each takes from and gives back to the copy's
/// memory (its argument points to that many bytes; a request with neither passes its argument as a value). Both
/// sides hold to this table: home carries out no other request (ENOTTY, as for a descriptor that does not know it).
/// </summary>
internal static class ForwardedIoctls
{
    public readonly record struct Shape(int In, int Out);

    private const int Int = 4, Termios = 36, WindowSize = 8;

    private static readonly Dictionary<uint, Shape> Known = new()
    {
        [0x541B] = new(0, Int),          // FIONREAD (SIOCINQ): bytes waiting to be read
        [0x5411] = new(0, Int),          // TIOCOUTQ (SIOCOUTQ): bytes not yet sent
        [0x894B] = new(0, Int),          // SIOCOUTQNSD: bytes not yet sent out at all
        [0x8905] = new(0, Int),          // SIOCATMARK
        [0x5421] = new(Int, 0),          // FIONBIO: O_NONBLOCK of the open file, home's
        [0x5401] = new(0, Termios),      // TCGETS (isatty)
        [0x5402] = new(Termios, 0),      // TCSETS
        [0x5403] = new(Termios, 0),      // TCSETSW
        [0x5404] = new(Termios, 0),      // TCSETSF
        [0x5413] = new(0, WindowSize),   // TIOCGWINSZ
        [0x5414] = new(WindowSize, 0),   // TIOCSWINSZ
    };

    /// <summary>FIOCLEX and FIONCLEX set close-on-exec, which is the copy's own (its placeholder holds it).</summary>
    public static bool IsLocal(uint request) => request is 0x5451 or 0x5450;

    public static Shape? Of(uint request) => Known.TryGetValue(request, out var shape) ? shape : null;
}
