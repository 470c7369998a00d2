using System.Buffers.Binary;
using OpenMosix.Linux;

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

    /// <summary>Rewrites the mutexes on the list at <paramref name="head"/> held by <paramref name="oldTid"/>; returns how many.
    /// A list the process corrupted itself is its own business: the walk just stops.</summary>
    public static int Retarget(int pid, ulong head, int oldTid, int newTid)
    {
        Span<byte> listHead = stackalloc byte[24];
        if (!ProcessMemory.TryRead(pid, head, listHead)) return 0;
        var next = BinaryPrimitives.ReadUInt64LittleEndian(listHead);
        var futexOffset = BinaryPrimitives.ReadInt64LittleEndian(listHead[8..]);
        var pending = BinaryPrimitives.ReadUInt64LittleEndian(listHead[16..]);
        var count = 0;
        Span<byte> word = stackalloc byte[8];
        for (var i = 0; next != head && next != 0 && i < Limit; i++)
        {
            if (Rewrite(pid, next, futexOffset, oldTid, newTid)) count++;
            if (!ProcessMemory.TryRead(pid, next, word)) break;
            next = BinaryPrimitives.ReadUInt64LittleEndian(word);
        }
        // A lock or unlock in progress when the thread stopped: its mutex is named here, maybe not on the list yet.
        if (pending != 0 && Rewrite(pid, pending, futexOffset, oldTid, newTid)) count++;
        return count;
    }

    private static bool Rewrite(int pid, ulong entry, long futexOffset, int oldTid, int newTid)
    {
        var futex = (ulong)((long)entry + futexOffset);
        Span<byte> value = stackalloc byte[4];
        if (!ProcessMemory.TryRead(pid, futex, value)) return false;
        var word = BinaryPrimitives.ReadUInt32LittleEndian(value);
        if ((word & TidMask) != (uint)oldTid) return false;
        BinaryPrimitives.WriteUInt32LittleEndian(value, (word & ~TidMask) | (uint)newTid);
        ProcessMemory.Write(pid, futex, value);
        if (ProcessMemory.TryRead(pid, futex + OwnerOffset, value) && BinaryPrimitives.ReadInt32LittleEndian(value) == oldTid)
        {
            BinaryPrimitives.WriteInt32LittleEndian(value, newTid);
            ProcessMemory.Write(pid, futex + OwnerOffset, value);
        }
        return true;
    }
}
