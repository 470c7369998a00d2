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
}
