namespace OpenMosix.Checkpoint.CantMove;

internal static class DescriptorClassifier
{
    private static readonly HashSet<string> SafeCharDevices = new(StringComparer.Ordinal)
    {
        "/dev/null", "/dev/zero", "/dev/urandom", "/dev/random", "/dev/full",
    };

    public static bool IsTerminal(string path) =>
        path.StartsWith("/dev/pts/", StringComparison.Ordinal) || path == "/dev/tty" || path == "/dev/console" || path == "/dev/ptmx"
        || (path.StartsWith("/dev/tty", StringComparison.Ordinal) && path.Length > 8 && char.IsAsciiDigit(path[8]));

    public static bool IsSafeCharDevice(string path) => SafeCharDevices.Contains(path);

    public static FileKind? KindOf(string target, Linux.FileType type) => type switch
    {
        Linux.FileType.Regular => FileKind.RegularFile,
        Linux.FileType.Directory => FileKind.Directory,
        Linux.FileType.Fifo => FileKind.Pipe,
        Linux.FileType.CharacterDevice when IsTerminal(target) => FileKind.Terminal,
        Linux.FileType.CharacterDevice when IsSafeCharDevice(target) => FileKind.SafeCharDevice,
        _ => null,
    };
}
