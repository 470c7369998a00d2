using OpenMosix.Linux.Interop;

namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// Room in a deputy's descriptor table for what omd puts into it: a descriptor its copy got away, under the number the
/// copy knows it by, and the files a trip home opens for the mapped regions. A deputy still holds what its copy closed
/// away and what it keeps for it, so its table can be full below its soft limit (EMFILE), and the copy may have raised
/// its own limit away (setrlimit is the node's, not forwarded) and used a number the deputy's limit refuses (EBADF).
/// A deputy's limits matter to omd alone: a trip home sets the image's limits after its descriptors.
/// </summary>
internal static class DeputyRoom
{
    /// <summary>
    /// Raises <paramref name="pid"/>'s soft RLIMIT_NOFILE so that <paramref name="number"/> (when not negative) is
    /// below it and at least <paramref name="free"/> numbers below it are free. The soft limit goes up to the hard one
    /// (allowed to omd for a process of its own user or with CAP_SYS_RESOURCE where the process lives); the hard one
    /// only where omd may raise it (CAP_SYS_RESOURCE): where it may not, the soft limit is left at the hard one and
    /// what needs more fails as before, with the reason logged. Returns false when the limit could not be made to fit.
    /// </summary>
    public static bool Ensure(int pid, int number, int free, ILogger logger)
    {
        try
        {
            var open = OpenMosix.Linux.Proc.ProcFs.ReadDescriptors(pid).Select(d => d.Fd).ToHashSet();
            var need = Needed(open, number, free);
            var limit = ResourceLimits.Get(pid, ResourceLimits.RLIMIT_NOFILE);
            if (limit.Current >= need) return true;
            if (need <= limit.Maximum)
            {
                ResourceLimits.Set(pid, ResourceLimits.RLIMIT_NOFILE, new RLimit { Current = need, Maximum = limit.Maximum });
                return true;
            }
            try
            {
                ResourceLimits.Set(pid, ResourceLimits.RLIMIT_NOFILE, new RLimit { Current = need, Maximum = need });
                return true;
            }
            catch (SyscallException e) when (e.Error == Errno.EPERM)
            {
                if (limit.Current < limit.Maximum)
                    ResourceLimits.Set(pid, ResourceLimits.RLIMIT_NOFILE, new RLimit { Current = limit.Maximum, Maximum = limit.Maximum });
                logger.LogWarning("Deputy {Pid}: its descriptor limit needs {Need} (fd {Number}, {Free} free), above its hard limit {Hard}, which omd may not raise (no CAP_SYS_RESOURCE)",
                    pid, need, number, free, limit.Maximum);
                return false;
            }
        }
        catch (Exception e) when (e is SyscallException or IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Deputy {Pid}: its descriptor limit could not be read or raised: {Error}", pid, e.Message);
            return false;
        }
    }

    /// <summary>The lowest soft limit above <paramref name="number"/> with <paramref name="free"/> numbers below it
    /// that none of <paramref name="open"/> holds (the kernel gives each new descriptor the lowest free number).</summary>
    internal static ulong Needed(IReadOnlySet<int> open, int number, int free)
    {
        var limit = 0;
        for (var left = free; left > 0; limit++)
            if (!open.Contains(limit)) left--;
        return (ulong)Math.Max(limit, number + 1);
    }
}
