using System.Diagnostics;
using Microsoft.Win32.SafeHandles;
using OpenMosix.Checkpoint.Format;
using static OpenMosix.Checkpoint.Tracing.SyscallNumbers;

namespace OpenMosix.Checkpoint.Dump;

/// <summary>
/// Pre-copy of a running process (the home side of a live migration): its private anonymous memory is put under
/// asynchronous write tracking (a userfaultfd created inside it by one injected call, with UFFD_FEATURE_WP_ASYNC:
/// the kernel resolves each first write itself and only records it), then copied in rounds while the process runs
/// on: every touched page first, then the pages written since the previous round (PAGEMAP_SCAN, which protects
/// them again in the same walk). The final checkpoint then carries only what changed after the last round, so the
/// process is frozen for that and not for all of its memory. A session may serve several final checkpoints in turn
/// (periodic checkpoints of a process running away from home): each carries what changed since the one before. Disposing ends the tracking and leaves the process as
/// it was: closing the userfaultfd drops every registration.
/// </summary>
public sealed class PrecopySession : IDisposable
{
    private readonly UserFaultFd _tracking;
    private readonly SafeFileHandle _pagemap;
    private readonly List<TrackedRegion> _regions;
    private readonly PrecopyLayout _initial;
    private readonly ILogger _logger;
    private bool _disposed;

    private PrecopySession(int pid, UserFaultFd tracking, SafeFileHandle pagemap, List<TrackedRegion> regions, PrecopyLayout initial, ILogger logger)
    {
        Pid = pid;
        _tracking = tracking;
        _pagemap = pagemap;
        _regions = regions;
        _initial = initial;
        _logger = logger;
    }

    public int Pid { get; }
    /// <summary>Rounds written so far.</summary>
    public int Rounds { get; private set; }
    /// <summary>Bytes of pages sent by all rounds.</summary>
    public ulong BytesSent { get; private set; }
    /// <summary>How long the process was stopped to set up the tracking (one injected call).</summary>
    public TimeSpan SetupStop { get; private init; }

    /// <summary>
    /// Runs on the tracer thread: stops the process for two injected calls (brk(0) and userfaultfd()), lets it run
    /// on, then registers and write-protects its private anonymous regions. Null when this kernel or its policy
    /// cannot track writes (the caller migrates without pre-copy); the process is never left stopped.
    /// </summary>
    internal static PrecopySession? Start(int pid, ILogger logger, bool forward = false, IReadOnlySet<int>? forwarded = null, CantMove.HomePaths? homePaths = null)
    {
        var clock = Stopwatch.StartNew();
        Freezer.SeizeAndStop(pid, Ptrace.O_TRACESYSGOOD | PrivilegeReader.SeizeOptions(pid));
        var original = Ptrace.GetRegs(pid);
        var mask = Ptrace.GetSignalMask(pid);
        SafeFileHandle? descriptor = null;
        string? refused = null;
        ulong brk;
        List<MemoryRegion> regions;
        List<FileDescriptorRecord> files;
        try
        {
            Ptrace.SetSignalMask(pid, ulong.MaxValue);
            regions = [.. ProcFs.ReadMaps(pid).Select(m => RegionBuilder.Build(pid, m))];
            var syscallAt = ProcessInspector.FindSyscallInstruction(pid, regions);
            if (syscallAt == 0) throw new InjectionException($"process {pid} has no syscall instruction in its code to inject through");
            var injector = new SyscallInjector(pid, syscallAt, original);
            brk = (ulong)injector.Call("brk(0)", Brk, 0);
            // User-mode-only is what an unprivileged process may create, and write tracking needs nothing more.
            var created = injector.Raw(Userfaultfd, UserFaultFd.FlagsForNew);
            if (created >= 0)
            {
                try
                {
                    using var pidfd = PidFd.Open(pid);
                    descriptor = pidfd.GetFd((int)created);
                }
                finally
                {
                    injector.Raw(Close, created);
                }
            }
            else
            {
                refused = Errno.FromNegated(created).Name();
            }
            files = ProcessInspector.ReadFiles(pid, forward, forwarded, homePaths);
        }
        catch
        {
            descriptor?.Dispose();
            throw;
        }
        finally
        {
            try
            {
                Ptrace.SetRegs(pid, SyscallRestart.Fix(original, sameProcess: true));
                Ptrace.SetSignalMask(pid, mask);
                HeldTraces.Detach(pid);
                HeldStops.Resend(pid);
            }
            catch (Exception e) when (KilledTracee.Is(e))
            {
                // Killed while stopped for the set-up: its parent must still see it die.
                descriptor?.Dispose();
                KilledTracee.Release(pid, KilledTracee.IsOurChild(pid), logger);
                throw;
            }
        }
        var stopped = clock.Elapsed;
        if (descriptor is null)
        {
            logger.LogInformation("Pre-copy of {Pid} not possible: userfaultfd refused ({Error})", pid, refused);
            return null;
        }

        UserFaultFd tracking;
        try
        {
            tracking = UserFaultFd.Adopt(descriptor, UserFaultFd.AsyncWriteTracking);
        }
        catch (SyscallException e)
        {
            logger.LogInformation("Pre-copy of {Pid} not possible: this kernel has no asynchronous write tracking ({Error})", pid, e.Message);
            return null;
        }
        var tracked = new List<TrackedRegion>();
        try
        {
            foreach (var region in regions.Where(Trackable))
            {
                try
                {
                    tracking.RegisterWriteProtect(region.Start, region.Length);
                    tracking.WriteProtect(region.Start, region.Length);
                    tracked.Add(new TrackedRegion(region));
                }
                catch (SyscallException e) when (e.Error is Errno.EINVAL or Errno.ENOENT or Errno.ENOMEM or Errno.EBUSY)
                {
                    // Changed since its maps line was read: the final checkpoint carries it whole.
                    logger.LogDebug("Pre-copy of {Pid}: region {Start:x}-{End:x} not tracked: {Error}", pid, region.Start, region.End, e.Message);
                }
            }
            var layout = new PrecopyLayout
            {
                Pid = pid,
                Command = ProcFs.ReadComm(pid),
                StartBrk = ProcFs.ReadStat(pid).StartBrk,
                Brk = brk,
                Regions = regions,
                Files = files,
            };
            return new PrecopySession(pid, tracking, Pagemap.Open(pid), tracked, layout, logger) { SetupStop = stopped };
        }
        catch
        {
            tracking.Dispose();
            throw;
        }
    }

    /// <summary>Private anonymous memory the process can read: where nearly all of a big process's bytes are.</summary>
    private static bool Trackable(MemoryRegion r) =>
        r.Kind is RegionKind.Anonymous or RegionKind.Heap or RegionKind.Stack && !r.Shared && r.Protection.HasFlag(MemoryProtection.Read);

    /// <summary>
    /// Writes one round as an image (layout, pages, end) while the process runs: round 1 every touched page of the
    /// tracked regions, later rounds the pages written since the round before (zero pages too: they replace what
    /// the target holds). Returns the bytes of pages written.
    /// </summary>
    public ulong WriteRound(ImageWriter writer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(writer);
        return Guarded(() => WriteRoundOf(writer));
    }

    private ulong WriteRoundOf(ImageWriter writer)
    {
        var clock = Stopwatch.StartNew();
        Rounds++;
        var live = _regions.Where(r => !r.Lost).ToList();
        writer.WriteLayout(_initial with
        {
            Round = Rounds,
            Tracked = [.. live.Select(r => new AddressRange(r.Region.Start, r.Region.End))],
        });
        ulong stored;
        (TimeSpan Select, TimeSpan Read, TimeSpan WaitForSink, int Chunks) spent;
        using (var copier = new MemoryCopier(Pid))
        {
            foreach (var region in live)
            {
                if (Rounds == 1)
                {
                    copier.Copy(region.Region, writer, null, region.MarkSent);
                    continue;
                }
                var written = new List<(ulong Start, ulong End)>();
                if (!Pagemap.TakeWritten(_pagemap, region.Region.Start, region.Region.End, written))
                {
                    region.Lost = true;
                    continue;
                }
                copier.CopyRanges(region.Region, written, writer, region.MarkSent);
            }
            copier.Finish();
            stored = copier.StoredBytes;
            spent = copier.Breakdown;
        }
        writer.Complete();
        BytesSent += stored;
        // Where a round's time goes on this side: picking and gathering pages against waiting for the sink (the link).
        _logger.LogInformation("Pre-copy of {Pid}, round {Round}: {MiB:F1} MiB in {Ms:F1} ms: picking pages {Select:F1} ms, gathering {Read:F1} ms, waiting for the link {Wait:F1} ms ({Chunks} chunks)",
            Pid, Rounds, stored / 1048576.0, clock.Elapsed.TotalMilliseconds, spent.Select.TotalMilliseconds, spent.Read.TotalMilliseconds,
            spent.WaitForSink.TotalMilliseconds, spent.Chunks);
        return stored;
    }

    /// <summary>Bytes written since the last round began: what the next round (or the freeze) would have to send.</summary>
    public ulong PendingBytes()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return Guarded(PendingBytesNow);
    }

    private ulong PendingBytesNow()
    {
        var written = new List<(ulong Start, ulong End)>();
        foreach (var region in _regions.Where(r => !r.Lost))
            if (!Pagemap.PeekWritten(_pagemap, region.Region.Start, region.Region.End, written)) return ulong.MaxValue;
        return written.Aggregate(0UL, (sum, range) => sum + (range.End - range.Start));
    }

    /// <summary>
    /// For the final checkpoint, with the process frozen and its final regions read: which tracked regions the
    /// target holds already (same range, still tracked), and for each the pages to send again: written since the
    /// last round, or sent before and gone now (discarded with MADV_DONTNEED: zeros at home).
    /// </summary>
    internal Dictionary<ulong, List<(ulong Start, ulong End)>> PlanFinal(IReadOnlyList<MemoryRegion> finalRegions)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return Guarded(() => PlanFinalOf(finalRegions));
    }

    /// <summary>An exec since the session began leaves its pagemap handle on an address space that is gone, and so
    /// does an exit: the process's state tells which (an exited one is a zombie until reaped, or gone). Any other
    /// failure to read an exited process is its exit too.</summary>
    private T Guarded<T>(Func<T> work)
    {
        try
        {
            return work();
        }
        catch (AddressSpaceGoneException e)
        {
            throw Vanished(Pid, e);
        }
        catch (Exception e) when (e is IOException or SyscallException or ProcessAccessException && ProcFs.HasEnded(Pid))
        {
            // An exited process's /proc files cannot be opened at all (ESRCH), before any handle could outlive it.
            throw new ProcessEndedException(Pid, e);
        }
    }

    /// <summary>What a lost address space of <paramref name="pid"/> means: an exit, or an exec.</summary>
    internal static Exception Vanished(int pid, AddressSpaceGoneException e) =>
        ProcFs.HasEnded(pid) ? new ProcessEndedException(pid, e) : new ProcessReplacedException(pid, e);

    private Dictionary<ulong, List<(ulong Start, ulong End)>> PlanFinalOf(IReadOnlyList<MemoryRegion> finalRegions)
    {
        var plan = new Dictionary<ulong, List<(ulong Start, ulong End)>>();
        var entries = new ulong[4096];
        foreach (var tracked in _regions.Where(r => !r.Lost))
        {
            var region = tracked.Region;
            var now = finalRegions.FirstOrDefault(f => f.Start == region.Start);
            if (now is null || now.End != region.End || now.Kind != region.Kind || now.Shared)
            {
                // Sent whole in this image: a session kept for later checkpoints sends it whole from now on, as the
                // other end's copy of it is gone with this image.
                tracked.Lost = true;
                continue;
            }
            var resend = new PageSet(region);
            var written = new List<(ulong Start, ulong End)>();
            if (!Pagemap.TakeWritten(_pagemap, region.Start, region.End, written)) continue;
            foreach (var (start, end) in written) resend.Add(start, end - start);
            for (var chunk = region.Start; chunk < region.End; chunk += (ulong)entries.Length * Pagemap.PageSize)
            {
                var count = (int)Math.Min((ulong)entries.Length, (region.End - chunk) / Pagemap.PageSize);
                Pagemap.Read(_pagemap, chunk, entries.AsSpan(0, count));
                for (var i = 0; i < count; i++)
                {
                    var page = chunk + (ulong)i * Pagemap.PageSize;
                    if (!Pagemap.IsPopulated(entries[i]) && tracked.Sent.Contains(page)) resend.Add(page, Pagemap.PageSize);
                }
            }
            plan[region.Start] = resend.Runs();
            // What this image carries counts as sent: a later checkpoint of the same session sends it again as zeros
            // if it is discarded meanwhile.
            foreach (var (start, end) in plan[region.Start]) tracked.Sent.Add(start, end - start);
        }
        return plan;
    }

    internal PrecopyDelta Delta(IEnumerable<ulong> keptStarts, List<AddressRange>? missing = null)
    {
        var kept = keptStarts.ToHashSet();
        return new PrecopyDelta
        {
            Rounds = Rounds,
            Kept = [.. _regions.Where(r => kept.Contains(r.Region.Start)).Select(r => new AddressRange(r.Region.Start, r.Region.End))],
            Missing = missing ?? [],
        };
    }

    private sealed class TrackedRegion(MemoryRegion region)
    {
        public MemoryRegion Region { get; } = region;
        /// <summary>The pages whose contents went to the target in some round.</summary>
        public PageSet Sent { get; } = new(region);
        /// <summary>No longer tracked (unmapped or replaced while the rounds ran): the final image sends it whole.</summary>
        public bool Lost { get; set; }

        public void MarkSent(ulong address, int length) => Sent.Add(address, (ulong)length);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _tracking.Dispose();
        _pagemap.Dispose();
    }
}
