namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// A thread taken while it was locking a robust mutex must come back under its own id. glibc's robust lock reads the
/// thread's id once, as it starts, and keeps it in a local (a register or its stack, where nothing says which word it
/// is): restored under a new id, the thread goes on locking with the old one, writes it into the futex word when the
/// mutex comes free or its owner dies, and its own unlock, which compares the word with the new id glibc caches, is
/// refused with EPERM (thr_robust in the migration lab: "recoverer unlock: Operation not permitted"). A mutex it holds
/// is renamed (<see cref="RobustFutexes"/>); one it is still locking cannot be.
/// </summary>
internal static class RobustLockers
{
    private const uint TidMask = 0x3fffffff;

    /// <summary>
    /// Whether the thread may be locking a robust mutex: its robust list head names an operation in progress
    /// (<c>list_op_pending</c>, set before a lock starts and cleared once the mutex is on the list) whose futex word
    /// does not name the thread, so it does not hold that mutex yet. glibc leaves the entry set after a timed lock
    /// that timed out, so this can be a lock that is over; taken as a lock under way all the same, it costs only a
    /// wait for an id the original is about to give back.
    /// </summary>
    /// <param name="pid">the restored process, its memory in place.</param>
    public static bool MayBeLocking(int pid, ulong robustListHead, int oldTid)
    {
        if (robustListHead == 0) return false;
        Span<byte> head = stackalloc byte[24];
        if (!ProcessMemory.TryRead(pid, robustListHead, head)) return false;
        var futexOffset = BinaryPrimitives.ReadInt64LittleEndian(head[8..]);
        var pending = BinaryPrimitives.ReadUInt64LittleEndian(head[16..]) & ~1UL; // bit 0 marks a priority-inheritance mutex
        if (pending == 0) return false;
        Span<byte> word = stackalloc byte[4];
        if (!ProcessMemory.TryRead(pid, (ulong)((long)pending + futexOffset), word)) return false;
        return (BinaryPrimitives.ReadUInt32LittleEndian(word) & TidMask) != (uint)oldTid;
    }
}
