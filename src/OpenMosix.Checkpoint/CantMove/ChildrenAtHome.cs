namespace OpenMosix.Checkpoint.CantMove;

/// <summary>
/// A migrating parent leaves its children at home with its deputy, which stays their parent there: the copy's
/// waits, signals to them and their SIGCHLD are carried out at home (docs/forwarding.md). What that cannot serve
/// is a child bound to the parent itself rather than to its PID: one that shares its memory (a vfork child before its
/// exec, CLONE_VM) or its descriptor table (CLONE_FILES). A child the parent traces is refused elsewhere.
/// </summary>
internal static class ChildrenAtHome
{
    public static IEnumerable<string> Reasons(int pid)
    {
        foreach (var child in ProcFs.ReadChildren(pid))
        {
            (bool Memory, bool Descriptors) shares;
            try
            {
                shares = KernelObjects.Shares(pid, child);
            }
            catch (SyscallException e) when (e.Error == Errno.ESRCH)
            {
                continue; // reaped meanwhile
            }
            if (shares.Memory) yield return $"has a child process ({child}) that shares its memory (vfork or CLONE_VM): it cannot stay at home without it";
            else if (shares.Descriptors) yield return $"has a child process ({child}) that shares its descriptor table (CLONE_FILES): it cannot stay at home without it";
        }
    }
}
