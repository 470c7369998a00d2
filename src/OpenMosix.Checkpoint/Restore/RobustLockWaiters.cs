namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// A thread taken while it was locking a robust mutex cannot come back under another id. glibc's lock reads the
/// thread's id once, when it starts, and keeps it in a local: restored under a new id, the thread still takes the
/// mutex (or recovers it from a dead owner) writing the old id into the futex word, and its own unlock, which compares
/// the word with its new id, is refused with EPERM. Unlike a held mutex (<see cref="RobustFutexes"/>), that id lives in
/// a register or on the stack, where nothing says which word it is, so it cannot be rewritten: such a thread gets its
/// own id back, or the restore is refused.
/// </summary>
internal static class RobustLockWaiters
{
    private const uint TidMask = 0x3fffffff, OwnerDied = 0x40000000;
    private const ulong Futex = 202, FutexWaitBitset = 9, FutexCommandMask = 0x7f, FutexClockRealtime = 256;

    /// <summary>
    /// The futex word of the robust mutex the thread was locking, or null. The kernel's robust list head names the
    /// mutex of an operation in progress (<c>list_op_pending</c>, set before a lock starts, cleared once it is on the
    /// list); glibc leaves it set after a timed-out lock too, so it counts only while the thread is at that mutex:
    /// a register names the mutex (waiting in the futex call inside the lock, just woken from it, or on the way to
    /// it), and the word does not name the thread (it does not hold it yet).
    /// </summary>
    /// <param name="pid">the restored process, its memory in place.</param>
    public static ulong? MutexBeingLocked(int pid, ulong robustListHead, int oldTid, ReadOnlySpan<byte> generalRegisters)
    {
        if (robustListHead == 0) return null;
        Span<byte> head = stackalloc byte[24];
        if (!ProcessMemory.TryRead(pid, robustListHead, head)) return null;
        var futexOffset = BinaryPrimitives.ReadInt64LittleEndian(head[8..]);
        var pending = BinaryPrimitives.ReadUInt64LittleEndian(head[16..]) & ~1UL; // bit 0 marks a priority-inheritance mutex
        if (pending == 0) return null;
        var futex = (ulong)((long)pending + futexOffset);
        var regs = UserRegs.FromBytes(generalRegisters);
        if (!AtMutex(regs, futex)) return null;
        Span<byte> value = stackalloc byte[4];
        if (!ProcessMemory.TryRead(pid, futex, value)) return null;
        var word = BinaryPrimitives.ReadUInt32LittleEndian(value);
        if ((word & TidMask) == (uint)oldTid) return null;
        return TimesOutAtOnce(pid, regs, futex, word) ? null : futex;
    }

    /// <summary>
    /// A timed lock's wait whose deadline has passed, on a mutex another thread holds: made again, the wait ends at
    /// once with ETIMEDOUT (so does a second one if the word changed meanwhile, say by an owner's new id), the lock
    /// returns it and the next lock starts with the thread's new id. The mutex freed in the instants before that wait
    /// runs is the one case this does not cover.
    /// </summary>
    private static bool TimesOutAtOnce(int pid, UserRegs regs, ulong futex, uint word)
    {
        // About to make the call again (the image's form of an interrupted call): rax holds its number, rip its syscall.
        if (regs.rax != Futex || regs.rdi != futex || regs.r10 == 0) return false;
        Span<byte> instruction = stackalloc byte[2];
        if (!ProcessMemory.TryRead(pid, regs.rip, instruction) || instruction[0] != 0x0f || instruction[1] != 0x05) return false;
        if ((regs.rsi & FutexCommandMask) != FutexWaitBitset) return false; // FUTEX_WAIT's timeout is relative: it waits again
        if ((word & TidMask) == 0 || (word & OwnerDied) != 0) return false;
        Span<byte> deadline = stackalloc byte[16];
        if (!ProcessMemory.TryRead(pid, regs.r10, deadline)) return false;
        var at = (Int128)BinaryPrimitives.ReadInt64LittleEndian(deadline) * 1_000_000_000 + BinaryPrimitives.ReadInt64LittleEndian(deadline[8..]);
        var now = (regs.rsi & FutexClockRealtime) != 0 ? RealtimeClock.NowNanoseconds() : MonotonicClock.Now().Ticks * 100;
        return at <= now;
    }

    /// <summary>Whether a register names the mutex (its futex word is its first field): the first argument of the lock
    /// and of the futex call inside it, or a callee-saved register the lock keeps it in around that call.</summary>
    private static bool AtMutex(UserRegs r, ulong futex) =>
        r.rdi == futex || r.rbx == futex || r.rbp == futex || r.r12 == futex || r.r13 == futex || r.r14 == futex || r.r15 == futex;

    /// <summary>Why a thread locking a robust mutex cannot be restored under <paramref name="newTid"/>.</summary>
    public static string Refusal(int oldTid, int newTid, ulong futex) =>
        $"thread {oldTid} was locking a robust mutex (futex word at 0x{futex:x}) and its id is taken here: glibc's lock goes on "
        + $"with the id it started with, so under id {newTid} it would take the mutex in the name of {oldTid} and could not unlock it; "
        + $"restore it once id {oldTid} is free";
}
