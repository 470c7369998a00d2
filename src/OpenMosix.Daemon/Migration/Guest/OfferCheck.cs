using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>Whether this node can take an offered process: not blocked, the same kernel, the same files, and the memory.</summary>
internal static class OfferCheck
{
    /// <summary>Why the offer is refused, or null to accept it.</summary>
    public static string? Refusal(Offer offer, bool blocked, ulong freeMemory, long reserved)
    {
        if (blocked) return "this node is blocked (mosctl block): it takes no processes";
        var here = SystemInfo.Uname();
        var kernel = $"{here.Release} {here.Version}";
        if (offer.Kernel != kernel)
            return $"kernel differs: home runs '{offer.Kernel}', this node '{kernel}'";
        foreach (var file in offer.Files)
        {
            var local = new FileInfo(file.Path);
            if (!local.Exists) return $"{file.Path} does not exist on this node";
            if (local.Length != file.Size) return $"{file.Path} differs on this node ({local.Length} bytes, {file.Size} at home)";
        }
        var free = (long)Math.Min(freeMemory, long.MaxValue) - reserved;
        if (offer.MemoryBytes > free)
            return $"not enough memory: the process needs {offer.MemoryBytes >> 20} MiB, this node has {Math.Max(0, free) >> 20} MiB free"
                   + (reserved > 0 ? $" after {reserved >> 20} MiB promised to guests on their way" : "");
        return null;
    }

    /// <summary>
    /// The descriptors of the offer's open files this node lacks or has different, which home is to keep and forward:
    /// a path missing here, or of another size. The same device and inode is the same file (a shared filesystem, as
    /// DFSA used it); another file of the same path and size is taken for the same, as a mapped file is. Null: none.
    /// </summary>
    public static List<int>? Lacking(Offer offer)
    {
        if (offer.OpenFiles is not { Count: > 0 } files) return null;
        List<int>? lacking = null;
        foreach (var file in files)
        {
            if (FileStatus.TryOf(file.Path, out var st, out _) && st!.Type == FileType.Regular
                && ((st.Device == file.Device && st.Inode == file.Inode) || st.Size == file.Size))
                continue;
            (lacking ??= []).Add(file.Fd);
        }
        return lacking;
    }
}
