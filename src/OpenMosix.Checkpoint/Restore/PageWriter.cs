using System.Diagnostics;
using OpenMosix.Linux.Interop;

namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// Writes page runs into the process being restored. Runs in regions that <paramref name="userFaults"/> covers are
/// filled straight from the image's buffer with UFFDIO_COPY. The others (pages a process changed in a private file
/// mapping, or all of them where userfaultfd is unavailable) go with process_vm_writev: small runs are staged in one
/// 16 MB buffer and written up to 1024 iovecs per call; big runs are prefaulted and written straight from the source.
/// With <paramref name="lazy"/> (post-copy), runs in covered regions are not written but noted there as pending.
/// </summary>
internal sealed class PageWriter(int pid, IReadOnlyList<MemoryRegion> regions, UserFaultPages? userFaults, Action<ulong, ulong>? prefault = null,
    Postcopy.PendingPages? lazy = null)
{
    private const int StagingSize = 16 << 20, DirectThreshold = 1 << 20;

    private byte[]? _staging;
    private readonly IoVec[] _local = new IoVec[ProcessMemory.MaxIoVecs];
    private readonly IoVec[] _remote = new IoVec[ProcessMemory.MaxIoVecs];
    private int _count, _used;
    private int _regionHint;
    private long _prefaultTicks, _writeTicks;

    public ulong Written { get; private set; }
    /// <summary>Time spent faulting in the target's pages, and filling them, for the restore's phase log.</summary>
    public TimeSpan PrefaultTime => Stopwatch.GetElapsedTime(0, _prefaultTicks);
    public TimeSpan WriteTime => Stopwatch.GetElapsedTime(0, _writeTicks);

    public unsafe void Add(PageRun run)
    {
        var region = RegionOf(run.Address, (ulong)run.Data.Length);
        if (lazy is not null && userFaults is not null && userFaults.Covers(region))
        {
            // Pending already when whole regions are (a run the image holds anyway): noted once.
            lazy.Remove(run.Address, (ulong)run.Data.Length);
            lazy.Add(run.Address, (ulong)run.Data.Length);
            return;
        }
        if (userFaults is not null && userFaults.Covers(region))
        {
            var start = Stopwatch.GetTimestamp();
            userFaults.Copy(run.Address, run.Data.Span);
            _writeTicks += Stopwatch.GetTimestamp() - start;
            Written += (ulong)run.Data.Length;
            return;
        }
        if (run.Data.Length >= DirectThreshold)
        {
            Flush();
            var t0 = Stopwatch.GetTimestamp();
            prefault?.Invoke(run.Address, (ulong)run.Data.Length);
            var t1 = Stopwatch.GetTimestamp();
            using var pin = run.Data.Pin();
            var l = new IoVec((nint)pin.Pointer, (nuint)run.Data.Length);
            var r = new IoVec((nint)run.Address, (nuint)run.Data.Length);
            Expect(ProcessMemory.WriteV(pid, new ReadOnlySpan<IoVec>(in l), new ReadOnlySpan<IoVec>(in r)), run.Data.Length, run.Address);
            _prefaultTicks += t1 - t0;
            _writeTicks += Stopwatch.GetTimestamp() - t1;
            Written += (ulong)run.Data.Length;
            return;
        }
        _staging ??= GC.AllocateUninitializedArray<byte>(StagingSize, pinned: true);
        if (_used + run.Data.Length > StagingSize || _count == ProcessMemory.MaxIoVecs) Flush();
        run.Data.Span.CopyTo(_staging.AsSpan(_used));
        fixed (byte* staging = _staging)
        {
            _local[_count] = new IoVec((nint)(staging + _used), (nuint)run.Data.Length);
        }
        _remote[_count] = new IoVec((nint)run.Address, (nuint)run.Data.Length);
        _count++;
        _used += run.Data.Length;
    }

    public void Flush()
    {
        if (_count == 0) return;
        var start = Stopwatch.GetTimestamp();
        Expect(ProcessMemory.WriteV(pid, _local.AsSpan(0, _count), _remote.AsSpan(0, _count)), _used, (ulong)_remote[0].Base);
        _writeTicks += Stopwatch.GetTimestamp() - start;
        Written += (ulong)_used;
        _count = 0;
        _used = 0;
    }

    private static void Expect(long written, long wanted, ulong address)
    {
        if (written != wanted)
            throw new SyscallException("process_vm_writev", Errno.EFAULT, $"short write ({written} of {wanted} bytes) near 0x{address:x}");
    }

    // Runs arrive in ascending order, so the region search only moves forward.
    private MemoryRegion RegionOf(ulong address, ulong length)
    {
        if (length == 0 || length % 4096 != 0 || address % 4096 != 0)
            throw new CorruptImageException($"page run at 0x{address:x} of {length} bytes is not whole pages");
        while (_regionHint < regions.Count && regions[_regionHint].End <= address) _regionHint++;
        if (_regionHint == regions.Count || address < regions[_regionHint].Start || address + length > regions[_regionHint].End)
            throw new CorruptImageException($"page run at 0x{address:x} of {length} bytes lies outside the image's memory regions");
        return regions[_regionHint];
    }
}
