namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// A robust mutex held by a thread carries the holder's tid in its futex word (and glibc's __owner beside it):
/// unlocking checks it, and the kernel marks it owner-dead when that tid exits. When a thread comes back with
/// another tid, every mutex on its robust list is rewritten to name the new one.
/// </summary>
internal static class RobustFutexes
{
    private const uint TidMask = 0x3fffffff;
    /// <summary>Where glibc keeps __owner, from the futex word (__lock, __count, __owner).</summary>
    private const long OwnerOffset = 8;
    /// <summary>The kernel walks at most this many entries (ROBUST_LIST_LIMIT); so do we.</summary>
    private const int Limit = 2048;

    /// <summary>A robust list to retarget: the thread's list head, its id in the image and its id now.</summary>
    public readonly record struct Owner(ulong Head, int OldTid, int NewTid);

    private readonly record struct Rewrite(ulong Futex, uint Word, bool Owner, int NewTid);

    /// <summary>
    /// Rewrites the mutexes on the lists of <paramref name="owners"/> that name their owner's old id; returns how many.
    /// Every rewrite is decided on the memory as restored before any is made: ids can form chains (a thread given
    /// the old id of another, which got a third), and a list also names the mutex its thread was about to lock
    /// (held by someone else), so rewriting one list before reading the next would rename a mutex twice.
    /// A list the process corrupted itself is its own business: the walk just stops.
    /// </summary>
    public static int Retarget(int pid, IEnumerable<Owner> owners)
    {
        var rewrites = new Dictionary<ulong, Rewrite>();
        foreach (var owner in owners.Where(o => o.Head != 0 && o.OldTid != o.NewTid))
            Plan(pid, owner, rewrites);
        Span<byte> value = stackalloc byte[4];
        foreach (var r in rewrites.Values)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(value, r.Word);
            ProcessMemory.Write(pid, r.Futex, value);
            if (!r.Owner) continue;
            BinaryPrimitives.WriteInt32LittleEndian(value, r.NewTid);
            ProcessMemory.Write(pid, r.Futex + OwnerOffset, value);
        }
        return rewrites.Count;
    }

    private static void Plan(int pid, Owner owner, Dictionary<ulong, Rewrite> rewrites)
    {
        Span<byte> listHead = stackalloc byte[24];
        if (!ProcessMemory.TryRead(pid, owner.Head, listHead)) return;
        var next = BinaryPrimitives.ReadUInt64LittleEndian(listHead);
        var futexOffset = BinaryPrimitives.ReadInt64LittleEndian(listHead[8..]);
        var pending = BinaryPrimitives.ReadUInt64LittleEndian(listHead[16..]);
        Span<byte> word = stackalloc byte[8];
        for (var i = 0; next != owner.Head && next != 0 && i < Limit; i++)
        {
            PlanOne(pid, next, futexOffset, owner, rewrites);
            if (!ProcessMemory.TryRead(pid, next, word)) break;
            next = BinaryPrimitives.ReadUInt64LittleEndian(word);
        }
        // A lock or unlock in progress when the thread stopped: its mutex is named here, maybe not on the list yet
        // (and maybe held by another thread: then its word names that thread, not this one, and is left alone).
        if (pending != 0) PlanOne(pid, pending, futexOffset, owner, rewrites);
    }

    private static void PlanOne(int pid, ulong entry, long futexOffset, Owner owner, Dictionary<ulong, Rewrite> rewrites)
    {
        var futex = (ulong)((long)entry + futexOffset);
        Span<byte> value = stackalloc byte[4];
        if (rewrites.ContainsKey(futex) || !ProcessMemory.TryRead(pid, futex, value)) return;
        var word = BinaryPrimitives.ReadUInt32LittleEndian(value);
        if ((word & TidMask) != (uint)owner.OldTid) return;
        var ownerNamed = ProcessMemory.TryRead(pid, futex + OwnerOffset, value) && BinaryPrimitives.ReadInt32LittleEndian(value) == owner.OldTid;
        rewrites[futex] = new Rewrite(futex, (word & ~TidMask) | (uint)owner.NewTid, ownerNamed, owner.NewTid);
    }
}
