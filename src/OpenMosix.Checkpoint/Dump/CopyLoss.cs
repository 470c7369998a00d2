namespace OpenMosix.Checkpoint.Dump;

/// <summary>Why a process's address space went while it was being copied, as an exception and what it wraps say: the
/// first <see cref="ProcessEndedException"/> or <see cref="ProcessReplacedException"/> in the chain decides; a lost
/// address space alone is an exit where the process has ended, an exec where it still runs.</summary>
internal static class CopyLoss
{
    /// <summary>True: <paramref name="pid"/> exited under its copy; false: it executed a new program; null: the chain
    /// says neither.</summary>
    public static bool? Ended(Exception? e, int pid)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is ProcessEndedException) return true;
            if (e is ProcessReplacedException) return false;
            if (e is Linux.Proc.AddressSpaceGoneException) return Linux.Proc.ProcFs.HasEnded(pid);
        }
        return null;
    }
}
