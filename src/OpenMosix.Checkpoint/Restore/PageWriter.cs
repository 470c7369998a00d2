using System.Diagnostics;
using OpenMosix.Checkpoint.Image;
using OpenMosix.Linux;
using OpenMosix.Linux.Interop;

namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// Writes page runs into the process being restored with process_vm_writev: small runs are staged in one reused
/// 16 MB buffer and written up to 1024 iovecs per call; big runs go straight from the source's buffer.
/// </summary>
internal sealed class PageWriter(int pid, IReadOnlyList<MemoryRegion> regions, Action<ulong, ulong>? prefault = null)
{
    private const int StagingSize = 16 << 20, DirectThreshold = 1 << 20;

    private readonly byte[] _staging = GC.AllocateUninitializedArray<byte>(StagingSize, pinned: true);
    private readonly IoVec[] _local = new IoVec[ProcessMemory.MaxIoVecs];
    private readonly IoVec[] _remote = new IoVec[ProcessMemory.MaxIoVecs];
    private int _count, _used;
    private int _regionHint;

    public ulong Written { get; private set; }
    /// <summary>Time spent faulting in the target's pages and copying into them, for the restore's phase log.</summary>
    public TimeSpan PrefaultTime => Stopwatch.GetElapsedTime(0, _prefaultTicks);
    public TimeSpan WriteTime => Stopwatch.GetElapsedTime(0, _writeTicks);
    private long _prefaultTicks, _writeTicks;

    public unsafe void Add(PageRun run)
    {
        CheckInsideRegion(run.Address, (ulong)run.Data.Length);
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
        Expect(ProcessMemory.WriteV(pid, _local.AsSpan(0, _count), _remote.AsSpan(0, _count)), _used, (ulong)_remote[0].Base);
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
    private void CheckInsideRegion(ulong address, ulong length)
    {
        if (length == 0 || length % 4096 != 0 || address % 4096 != 0)
            throw new CorruptImageException($"page run at 0x{address:x} of {length} bytes is not whole pages");
        while (_regionHint < regions.Count && regions[_regionHint].End <= address) _regionHint++;
        if (_regionHint == regions.Count || address < regions[_regionHint].Start || address + length > regions[_regionHint].End)
            throw new CorruptImageException($"page run at 0x{address:x} of {length} bytes lies outside the image's memory regions");
    }
}
