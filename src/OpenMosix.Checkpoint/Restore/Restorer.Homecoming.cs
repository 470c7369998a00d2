using System.Diagnostics;
using OpenMosix.Checkpoint.Format;
using static OpenMosix.Checkpoint.Tracing.SyscallNumbers;

namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// A process coming home is rebuilt into its deputy, the original process (same PID, same parent), in one go from its
/// image or, pre-copied, laid out from the first round of the trip home while its copy still runs elsewhere: nothing
/// runs in a deputy, so its address space can be built up meanwhile, and the final image completes it.
/// </summary>
internal sealed partial class Restorer
{
    /// <summary>
    /// Rebuilds an image into an existing, stopped deputy (its original process: same PID, same parent) that waits
    /// in the pause loop of <paramref name="deputyTrampoline"/>. Its descriptors stand in for the image's pipes and
    /// terminals; descriptors the image does not have are closed. A failure before the deputy's address space is
    /// touched leaves it a deputy; <paramref name="newTrampoline"/> tells the caller which trampoline it has then.
    /// </summary>
    public RestoredProcess RestoreInto(int pid, ulong deputyTrampoline, IImageSource source, RestoreOptions options, out ulong newTrampoline)
    {
        var total = Stopwatch.StartNew();
        newTrampoline = deputyTrampoline;
        var image = source.ReadMetadata();
        Validate(image, options);
        CpuCompatibility.Check(image);
        DeputyPrivileges.Check(pid, image);
        var (injector, build) = EmptyDeputy(pid, image, deputyTrampoline, image.Regions, out newTrampoline);
        CpuCompatibility.CheckExtendedStateSize(image.Cpu.ExtendedState.Length, Ptrace.GetExtendedState(pid).Length);
        // The copy had another PID where it ran: Rebuild fixes what caches it (glibc's tid) since pid differs.
        _ = Rebuild(pid, image, source, options with { ForwardDescriptors = false, ControllingTerminal = false }, injector, build, OwnDescriptors(pid), total, Ptrace.O_TRACESYSGOOD);
        return new RestoredProcess(pid, image.Origin.Pid == pid, image.Origin.Pid, total.Elapsed);
    }

    /// <summary>
    /// The first round of a pre-copied trip home: the deputy is laid out like its copy and filled with the round's
    /// pages. It is parked again by the caller between rounds (a deputy still, in its new trampoline's pause loop).
    /// </summary>
    public PrecopyTarget BeginPrecopyInto(int pid, ulong deputyTrampoline, ImageReader round, out ulong newTrampoline)
    {
        var total = Stopwatch.StartNew();
        newTrampoline = deputyTrampoline;
        var layout = round.ReadLayout();
        var tracked = TrackedRegions(layout);
        var image = LayoutImage(layout, tracked);
        var (injector, build) = EmptyDeputy(pid, image, deputyTrampoline, layout.Regions, out newTrampoline);
        build.MapRegions();
        var filled = FillRound(pid, injector, round, tracked, FillWithUserFaults);
        logger.LogDebug("Pre-copy home of {Pid}: deputy laid out and {MiB:F1} MiB of round 1 written in {Ms:F1} ms",
            pid, filled / 1048576.0, total.Elapsed.TotalMilliseconds);
        return new PrecopyTarget(pid, layout, injector, newTrampoline, OwnDescriptors(pid), tracked)
        {
            BytesWritten = filled,
            IntoDeputy = true,
        };
    }

    /// <summary>Descriptors a deputy kept: each stands in for the image's under its own number.</summary>
    private static Dictionary<int, int> OwnDescriptors(int pid) =>
        OpenMosix.Linux.Proc.ProcFs.ReadDescriptors(pid).ToDictionary(d => d.Fd, d => d.Fd);

    /// <summary>
    /// Gives the stopped deputy a restore trampoline where <paramref name="image"/> (and <paramref name="regions"/>)
    /// leave room, and empties its address space as a fresh stub's is, vdso and vvar where the image has them.
    /// </summary>
    private (SyscallInjector Injector, ProcessBuilder Builder) EmptyDeputy(int pid, ProcessImage image, ulong deputyTrampoline,
        IEnumerable<MemoryRegion> regions, out ulong newTrampoline)
    {
        newTrampoline = deputyTrampoline;
        // Room for every mapped file the rebuild opens at once (and a few more): the image's limits are set after its
        // descriptors (RestoreProcessState), and those it does not have are closed before.
        DeputyRoom.Ensure(pid, -1, regions.Select(r => r.Name).Distinct(StringComparer.Ordinal).Count() + 16, logger);
        var space = new AddressSpace();
        foreach (var r in regions) space.Reserve(r.Start, r.End);
        foreach (var m in OpenMosix.Linux.Proc.ProcFs.ReadMaps(pid)) space.Reserve(m.Start, m.End);
        var (brkSegment, trampoline) = PlaceTrampoline(space, image);

        Ptrace.SetSignalMask(pid, ulong.MaxValue);
        var regs = Ptrace.GetRegs(pid);
        var injector = new SyscallInjector(pid, deputyTrampoline + StubElf.SyscallOffset, regs);
        var mapped = (ulong)injector.Call("mmap of the restore trampoline", Mmap, (long)trampoline, (long)StubElf.TrampolineSize,
            ProtRead | ProtWrite | ProtExec, MapPrivate | MapAnonymous | MapFixedNoReplace, -1, 0);
        if (mapped != trampoline) throw new RestoreException($"the restore trampoline landed at 0x{mapped:x}, not 0x{trampoline:x}");
        StubElf.WriteCode(pid, trampoline);
        newTrampoline = trampoline;
        injector.SyscallInstruction = trampoline + StubElf.SyscallOffset;
        // The deputy's break was put back at its start when it became a deputy, as a fresh stub's is.
        var ownStart = OpenMosix.Linux.Proc.ProcFs.ReadStat(pid).StartBrk;
        if (brkSegment != 0 && ownStart != brkSegment)
            throw new RestoreException($"deputy {pid} has its break at 0x{ownStart:x}, the image at 0x{brkSegment:x}");

        var build = new ProcessBuilder(pid, image, injector, trampoline, space, logger);
        build.ReplaceStubAddressSpace(brkSegment);
        return (injector, build);
    }
}
