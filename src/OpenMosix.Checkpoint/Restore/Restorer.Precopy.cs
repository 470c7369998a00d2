using System.Diagnostics;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Format;
using static OpenMosix.Checkpoint.Tracing.SyscallNumbers;

namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// The target side of a pre-copied migration: the first round lays out a stub like the process at home and fills
/// its tracked regions, later rounds overwrite the pages written since, and the final image (metadata and only the
/// pages that changed after the last round) completes it: regions that changed shape are dropped and rebuilt,
/// everything else is restored as in a plain restore.
/// </summary>
internal sealed partial class Restorer
{
    private const long MadvDontneed = 4;

    public PrecopyTarget BeginPrecopy(ImageReader round, RestoreOptions options)
    {
        var total = Stopwatch.StartNew();
        var layout = round.ReadLayout();
        var tracked = TrackedRegions(layout);
        var image = LayoutImage(layout, tracked);
        var descriptors = InheritedDescriptors(options, image);
        var stub = StartStub(image, descriptors, options.TryOriginalPid && !Signals.Exists(layout.Pid) ? layout.Pid : 0, total, layout.Regions,
            holdSession: options.ControllingTerminal);
        try
        {
            stub.Builder.MapRegions();
            var filled = FillRound(stub.Pid, stub.Injector, round, tracked, FillWithUserFaults);
            logger.LogDebug("Pre-copy of {Pid}: stub {Stub} laid out and {MiB:F1} MiB of round 1 written in {Ms:F1} ms",
                layout.Pid, stub.Pid, filled / 1048576.0, total.Elapsed.TotalMilliseconds);
            return new PrecopyTarget(stub.Pid, layout, stub.Injector, stub.Trampoline, descriptors, tracked)
            {
                BytesWritten = filled,
                HeldSession = stub.Builder.HeldSession,
            };
        }
        catch
        {
            KillStub(stub.Pid);
            throw;
        }
    }

    /// <summary>The regions round 1 tracks, each one whole region of its layout.</summary>
    private static List<MemoryRegion> TrackedRegions(PrecopyLayout layout)
    {
        if (layout.Round != 1) throw new RestoreException($"a pre-copy starts with round 1, not {layout.Round}");
        var trackedRanges = layout.Tracked.ToHashSet();
        var tracked = layout.Regions.Where(r => trackedRanges.Contains(new AddressRange(r.Start, r.End))).ToList();
        if (tracked.Count != trackedRanges.Count) throw new CorruptImageException("corrupt pre-copy layout: a tracked range is not one whole region");
        return tracked;
    }

    /// <summary>A later round: the pages written at home since the round before, over what the stub holds.</summary>
    public void ContinuePrecopy(PrecopyTarget target, ImageReader round)
    {
        var layout = round.ReadLayout();
        if (layout.Pid != target.Layout.Pid || layout.Round != target.Rounds + 1)
            throw new RestoreException($"pre-copy round {layout.Round} of process {layout.Pid} does not follow round {target.Rounds} of {target.Layout.Pid}");
        var known = target.Tracked.Select(r => new AddressRange(r.Start, r.End)).ToHashSet();
        if (layout.Tracked.Any(t => !known.Contains(t)))
            throw new CorruptImageException("corrupt pre-copy round: it tracks a range the first round did not");
        target.BytesWritten += FillRound(target.Pid, target.Injector, round, target.Tracked, useUserFaults: false);
        target.Rounds = layout.Round;
    }

    /// <summary>
    /// Completes the process from the final image. Tracked regions the image does not list as kept (unmapped, moved
    /// or resized at home during the rounds) are dropped first; the break is moved to the image's; then the usual
    /// rebuild maps what is new and writes every page run, over the kept regions' contents where they fall there.
    /// </summary>
    public RestoredProcess FinishPrecopy(PrecopyTarget target, IImageSource source, RestoreOptions options)
    {
        var total = Stopwatch.StartNew();
        var image = source.ReadMetadata();
        Validate(image, options);
        if (image.Precopy is not { } delta) throw new RestoreException("the final image of a pre-copy does not say what the rounds carried");
        if (image.Origin.Pid != target.Layout.Pid) throw new RestoreException($"the final image is of process {image.Origin.Pid}, the pre-copy of {target.Layout.Pid}");
        CpuCompatibility.Check(image);
        if (target.IntoDeputy) DeputyPrivileges.Check(target.Pid, image);
        var pid = target.Pid;
        var injector = target.Injector;
        CpuCompatibility.CheckExtendedStateSize(image.Cpu.ExtendedState.Length, Ptrace.GetExtendedState(pid).Length);
        if (image.Attributes.StartBrk != target.Layout.StartBrk) throw new RestoreException("the process's heap moved during the pre-copy");
        foreach (var special in image.Regions.Where(r => SpecialNames.Contains(r.Name)))
            if (!target.Layout.Regions.Any(r => r.Name == special.Name && r.Start == special.Start && r.End == special.End))
                throw new RestoreException($"{special.Name} moved during the pre-copy");
        if (image.Regions.Any(r => r.Start < target.Trampoline + StubElf.TrampolineSize && target.Trampoline < r.End))
            throw new RestoreException($"the process mapped memory where the restore trampoline is (0x{target.Trampoline:x}) during the pre-copy");

        var kept = new HashSet<ulong>();
        foreach (var range in delta.Kept)
        {
            var region = target.Tracked.FirstOrDefault(r => r.Start == range.Start && r.End == range.End)
                ?? throw new CorruptImageException($"corrupt image: kept range 0x{range.Start:x}-0x{range.End:x} was never pre-copied");
            if (!image.Regions.Any(r => r.Start == region.Start && r.End == region.End && RegionBuilder.HasContents(r)))
                throw new CorruptImageException($"corrupt image: kept range 0x{range.Start:x}-0x{range.End:x} is not one of its regions");
            kept.Add(range.Start);
        }

        var missing = MissingPages(image, delta, kept, options);

        var layoutImage = LayoutImage(target.Layout, target.Tracked);
        var layoutBuilder = new ProcessBuilder(pid, layoutImage, injector, target.Trampoline, new AddressSpace(), logger);
        foreach (var region in target.Tracked.Where(r => !kept.Contains(r.Start)))
        {
            if (layoutBuilder.IsBrkHeap(region))
                injector.Call($"madvise(MADV_DONTNEED) of {region.Start:x}-{region.End:x}", Madvise, (long)region.Start, (long)region.Length, MadvDontneed);
            else
                injector.Call($"munmap of {region.Start:x}-{region.End:x}", Munmap, (long)region.Start, (long)region.Length);
        }
        if (image.Attributes.Brk != target.Layout.Brk && image.Attributes.StartBrk >= 0x20000)
        {
            var end = (ulong)injector.Call("brk", Brk, (long)Math.Max(image.Attributes.Brk, image.Attributes.StartBrk));
            if (end != Math.Max(image.Attributes.Brk, image.Attributes.StartBrk))
                throw new RestoreException($"brk(0x{image.Attributes.Brk:x}) gave 0x{end:x}: the heap cannot be rebuilt");
        }

        // Post-copy after the rounds: what changed since the last round is dropped here, to be fetched from home.
        foreach (var range in missing)
            injector.Call($"madvise(MADV_DONTNEED) of {range.Start:x}-{range.End:x}", Madvise, (long)range.Start, (long)range.Length, MadvDontneed);

        var builder = new ProcessBuilder(pid, image, injector, target.Trampoline, new AddressSpace(), logger) { HeldSession = target.HeldSession };
        if (!target.IntoDeputy) RequireForwarding(image, options);
        var forwarding = Rebuild(pid, image, source, target.IntoDeputy ? options with { ForwardDescriptors = false, ControllingTerminal = false } : options, injector, builder,
            target.Descriptors, total, target.IntoDeputy ? Ptrace.O_TRACESYSGOOD : StubTraceOptions, kept, target.IntoDeputy ? null : options.LazyPages, missing);
        target.Finished = true;
        logger.LogInformation("Completed pre-copied process {OriginalPid} as {Pid}: {Kept} of {Tracked} regions kept over {Rounds} rounds, {MiB:F1} MiB before the freeze{Postcopy}",
            image.Origin.Pid, pid, kept.Count, target.Tracked.Count, target.Rounds, target.BytesWritten / 1048576.0,
            forwarding.Postcopy is null ? "" : $", {missing.Sum(r => (double)r.Length) / 1048576.0:F1} MiB of them changed since and fetched by post-copy");
        return Restored(pid, image, forwarding, total.Elapsed);
    }

    /// <summary>
    /// The pages a post-copy after the rounds left at home (<see cref="PrecopyDelta.Missing"/>): each range ascending,
    /// page-aligned and inside a kept region the post-copy serves; only with a page source to fetch them from.
    /// </summary>
    private static List<AddressRange> MissingPages(ProcessImage image, PrecopyDelta delta, HashSet<ulong> kept, RestoreOptions options)
    {
        if (delta.Missing.Count == 0) return [];
        if (options.LazyPages is null)
            throw new RestoreException("the final image left changed pages at home for a post-copy, and nothing here fetches them");
        var previousEnd = 0UL;
        foreach (var range in delta.Missing)
        {
            var region = image.Regions.FirstOrDefault(r => r.Start <= range.Start && range.End <= r.End);
            if (range.Start % 4096 != 0 || range.End % 4096 != 0 || range.Start >= range.End || range.Start < previousEnd
                || region is null || !kept.Contains(region.Start) || !Postcopy.LazyMemory.IsLazy(region))
                throw new CorruptImageException($"corrupt image: pages 0x{range.Start:x}-0x{range.End:x} left at home are not in order inside one kept region");
            previousEnd = range.End;
        }
        return delta.Missing;
    }

    /// <summary>Kills the stub of a pre-copy that will not be completed; a deputy is the caller's to park again.</summary>
    public static void AbandonPrecopy(PrecopyTarget target)
    {
        if (!target.Finished && !target.IntoDeputy && Signals.Exists(target.Pid)) KillStub(target.Pid);
    }

    private ulong FillRound(int pid, Tracing.SyscallInjector injector, ImageReader round, List<MemoryRegion> tracked, bool useUserFaults)
    {
        using var userFaults = useUserFaults ? UserFaultPages.TryOpen(pid, injector, tracked, logger) : null;
        var writer = new PageWriter(pid, tracked, userFaults,
            (address, length) => injector.Raw(Madvise, (long)address, (long)length, MadvPopulateWrite));
        using var serving = ServeBriefWhileWaiting(round);
        var clock = Stopwatch.StartNew();
        var reading = TimeSpan.Zero;
        while (Timed(round.ReadNextPageRun, ref reading) is { } run)
        {
            writer.Add(run);
            tracer.ServeBrief();
        }
        writer.Flush();
        userFaults?.Release();
        // Where a round's time goes on this side: waiting for the image (the link, or home gathering) against placing it.
        logger.LogInformation("Pre-copy round into {Pid}: {MiB:F1} MiB placed in {Ms:F1} ms: waiting for the image {Reading:F1} ms, writing ({How}) {Write:F1} ms, prefault {Prefault:F1} ms",
            pid, writer.Written / 1048576.0, clock.Elapsed.TotalMilliseconds, reading.TotalMilliseconds, userFaults is null ? "process_vm_writev" : "UFFDIO_COPY",
            writer.WriteTime.TotalMilliseconds, writer.PrefaultTime.TotalMilliseconds);
        return writer.Written;
    }

    /// <summary>The layout as an image the stub can be built from: no state yet, only where memory goes.</summary>
    private static ProcessImage LayoutImage(PrecopyLayout layout, List<MemoryRegion> tracked) => new()
    {
        Origin = new ImageOrigin { Pid = layout.Pid, Command = layout.Command },
        Cpu = new CpuState { GeneralRegisters = [], ExtendedState = [] },
        Signals = new SignalState { Actions = new SignalAction[64] },
        Attributes = new ProcessAttributes { StartBrk = layout.StartBrk, Brk = layout.Brk },
        Regions = [.. layout.Regions.Where(r => tracked.Contains(r) || SpecialNames.Contains(r.Name) || r.Kind == RegionKind.Vsyscall)],
        Files = layout.Files,
    };
}
