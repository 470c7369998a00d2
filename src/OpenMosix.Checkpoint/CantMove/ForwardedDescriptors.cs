namespace OpenMosix.Checkpoint.CantMove;

/// <summary>
/// Which descriptors a migration leaves open at home and serves from there (<see cref="FileKind.Forwarded"/>):
/// sockets, pipes and FIFOs on fd 3 and up whose other end the process does not hold (0-2 are relayed as stdio), and
/// files deleted while open, and files and directories below the home paths (<see cref="HomePaths"/>). Only a migration forwards: an image written to a file cannot.
/// </summary>
internal static class ForwardedDescriptors
{
    public static bool IsForwarded(int fd, string target, FileType type, ISet<string> internalPipes, HomePaths? homePaths = null)
    {
        if (type is FileType.Regular or FileType.Directory && homePaths?.Covers(target) == true
            && !target.EndsWith(" (deleted)", StringComparison.Ordinal)) return true;
        if (target.StartsWith("socket:", StringComparison.Ordinal)) return true;
        if (target.StartsWith("pipe:", StringComparison.Ordinal)) return fd > 2 && !internalPipes.Contains(target);
        if (type == FileType.Fifo) return fd > 2;
        return type == FileType.Regular && target.StartsWith('/') && target.EndsWith(" (deleted)", StringComparison.Ordinal)
               && !target.StartsWith("/memfd:", StringComparison.Ordinal);
    }

    public static string Describe(int fd, string target) => $"fd {fd} ({target}) is forwarded through home";
}
