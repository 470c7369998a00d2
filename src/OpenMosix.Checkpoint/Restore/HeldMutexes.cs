using System.Runtime.InteropServices;

namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// glibc's error-checking, recursive and adaptive mutexes name their holder by thread id (<c>__owner</c>), and so do
/// priority-inheritance ones in their lock word; no list of them exists (robust mutexes have theirs,
/// <see cref="RobustFutexes"/>). When a thread comes back with another id, its process's writable memory is searched
/// for held mutexes that name the old id, so that the thread can still unlock them (and relock a recursive one).
/// The search runs only when an id changed, which on separate machines is rare.
/// </summary>
internal static class HeldMutexes
{
    // struct __pthread_mutex_s on x86_64: int __lock; unsigned __count; int __owner; unsigned __nusers; int __kind; ...
    private const int OwnerOffset = 8, UsersOffset = 12, KindOffset = 16, MutexSize = 40;
    private const int KindMask = 0x3, PriorityInheritance = 32, Robust = 16;
    private const uint TidMask = 0x3fffffff;
    private const int ChunkSize = 1 << 20;

    /// <summary>Rewrites every held mutex of <paramref name="pid"/> that names a key of <paramref name="moved"/>; returns how many.</summary>
    public static int Retarget(int pid, IEnumerable<MemoryRegion> regions, IReadOnlyDictionary<int, int> moved)
    {
        if (moved.Count == 0) return 0;
        var buffer = new byte[ChunkSize + MutexSize];
        var fixes = 0;
        foreach (var region in regions.Where(Searchable))
        {
            // Chunks overlap by one mutex, so that none is cut in two.
            for (var at = region.Start; at < region.End; at += ChunkSize)
            {
                var length = (int)Math.Min((ulong)buffer.Length, region.End - at);
                if (!ProcessMemory.TryRead(pid, at, buffer.AsSpan(0, length))) continue;
                fixes += Scan(pid, at, buffer.AsSpan(0, length), Math.Min(length, ChunkSize), moved);
            }
        }
        return fixes;
    }

    private static bool Searchable(MemoryRegion r) =>
        r.Protection.HasFlag(MemoryProtection.Read) && r.Protection.HasFlag(MemoryProtection.Write)
        && r.Kind is RegionKind.Anonymous or RegionKind.Heap or RegionKind.Stack or RegionKind.FilePrivate
            or RegionKind.SharedAnonymous or RegionKind.SharedFile or RegionKind.SharedMemfd;

    private static int Scan(int pid, ulong address, Span<byte> data, int starts, IReadOnlyDictionary<int, int> moved)
    {
        var words = MemoryMarshal.Cast<byte, int>(data);
        var fixes = 0;
        Span<byte> word = stackalloc byte[4];
        foreach (var (oldTid, newTid) in moved)
        {
            // Every 4-byte position holding the old id is an owner candidate; a mutex starts 8 bytes before it.
            for (var i = 0; i < words.Length;)
            {
                var found = words[i..].IndexOf(oldTid);
                if (found < 0) break;
                i += found + 1;
                var start = (i - 1) * 4 - OwnerOffset;
                if (start < 0 || start % 8 != 0 || start >= starts || start + MutexSize > data.Length) continue;
                if (!LooksHeld(data.Slice(start, MutexSize), oldTid, out var fixLock)) continue;
                var mutex = address + (ulong)start;
                BinaryPrimitives.WriteInt32LittleEndian(word, newTid);
                ProcessMemory.Write(pid, mutex + OwnerOffset, word);
                if (fixLock)
                {
                    var lockWord = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(start, 4));
                    BinaryPrimitives.WriteUInt32LittleEndian(word, (lockWord & ~TidMask) | (uint)newTid);
                    ProcessMemory.Write(pid, mutex, word);
                }
                fixes++;
            }
        }
        return fixes;
    }

    /// <summary>A locked, non-robust glibc mutex held by <paramref name="tid"/>: its lock word, users and kind agree.</summary>
    private static bool LooksHeld(ReadOnlySpan<byte> m, int tid, out bool fixLock)
    {
        fixLock = false;
        var lockWord = BinaryPrimitives.ReadUInt32LittleEndian(m);
        var users = BinaryPrimitives.ReadUInt32LittleEndian(m[UsersOffset..]);
        var kind = BinaryPrimitives.ReadInt32LittleEndian(m[KindOffset..]);
        if (users is 0 or > 0xffff || kind < 0 || kind > 0x3ff || (kind & Robust) != 0) return false;
        if ((kind & PriorityInheritance) != 0)
        {
            fixLock = (lockWord & TidMask) == (uint)tid;
            return fixLock;
        }
        // Error-checking, recursive and adaptive mutexes: 1 locked, 2 locked with waiters.
        return lockWord is 1 or 2 && (kind & KindMask) != 0;
    }
}
