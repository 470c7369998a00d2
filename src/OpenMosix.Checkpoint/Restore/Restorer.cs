using System.Diagnostics;
using Microsoft.Extensions.Logging;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Image;
using OpenMosix.Checkpoint.Tracing;
using OpenMosix.Linux;
using static OpenMosix.Checkpoint.Tracing.SyscallNumbers;

namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// Rebuilds a process from an image inside a freshly spawned stub, driving it with injected syscalls: unmap the
/// stub, move vdso/vvar, rebuild the break, map every region, fill it, reopen files, restore signals, timers,
/// limits and identity, credentials last, then registers, and let it go. Runs on the tracer thread.
/// </summary>
internal sealed class Restorer(ILogger logger)
{
    internal const int O_CREAT = 0x40, O_EXCL = 0x80, O_NOCTTY = 0x100, O_TRUNC = 0x200, O_CLOEXEC = 0x80000;
    internal static readonly string[] SpecialNames = ["[vvar]", "[vvar_vclock]", "[vdso]"];

    /// <summary>Fill anonymous memory with UFFDIO_COPY where the kernel allows it (off: process_vm_writev only).</summary>
    internal bool FillWithUserFaults { get; set; } = true;

    public RestoredProcess Restore(IImageSource source, RestoreOptions options)
    {
        var total = Stopwatch.StartNew();
        var image = source.ReadMetadata();
        Validate(image);
        WarnOnKernelDifference(image);
        CpuCompatibility.Check(image);
        var originalPid = image.Origin.Pid;
        var descriptors = options.DescriptorsFor?.Invoke(image)
            ?? (options.InheritedDescriptors is { Count: > 0 } given ? given : new Dictionary<int, int> { [0] = 0, [1] = 1, [2] = 2 });

        var space = new AddressSpace();
        foreach (var r in image.Regions) space.Reserve(r.Start, r.End);
        var startBrk = image.Attributes.StartBrk;
        var brkSegment = startBrk >= 0x20000 && startBrk % 4096 == 0 ? startBrk : 0;
        if (brkSegment != 0) space.Reserve(brkSegment - 0x1000, PageAlign(Math.Max(image.Attributes.Brk, startBrk)) + (2 << 20));
        var trampoline = space.FindFree(StubElf.TrampolineSize, 0x100000, brkSegment != 0 ? brkSegment - 0x1000 : 1UL << 46);
        if (trampoline == 0) throw new RestoreException("no free address below the image's heap for the restore trampoline");
        space.Reserve(trampoline, trampoline + StubElf.TrampolineSize);

        var wantedPid = options.TryOriginalPid && !Signals.Exists(originalPid) ? originalPid : 0;
        var pid = StubSpawner.Spawn(StubElf.Build(trampoline, brkSegment), descriptors, wantedPid, logger);
        try
        {
            Freezer.SeizeAndStop(pid, Ptrace.O_TRACESYSGOOD | Ptrace.O_EXITKILL);
            var regs = Ptrace.GetRegs(pid);
            if (regs.rip < trampoline || regs.rip >= trampoline + 0x1000)
                throw new RestoreException($"restore stub {pid} stopped at 0x{regs.rip:x}, outside its code at 0x{trampoline:x}");
            CpuCompatibility.CheckExtendedStateSize(image.Cpu.ExtendedState.Length, Ptrace.GetExtendedState(pid).Length);
            Ptrace.SetSignalMask(pid, ulong.MaxValue);
            var injector = new SyscallInjector(pid, trampoline + StubElf.SyscallOffset, regs);
            var stubReady = total.Elapsed;
            var build = new ProcessBuilder(pid, image, injector, trampoline, space, logger);
            build.ReplaceStubAddressSpace(brkSegment);
            build.AssumeFilesystemIdentity();
            build.MapRegions();
            var layoutReady = total.Elapsed;
            var withContents = image.Regions.Where(RegionBuilder.HasContents).ToList();
            ulong pageBytes;
            using (var userFaults = FillWithUserFaults ? UserFaultPages.TryOpen(pid, injector, withContents.Where(r => !ProcessBuilder.MappedFromFile(r)), logger) : null)
            {
                var writer = new PageWriter(pid, withContents, userFaults,
                    (address, length) => injector.Raw(Madvise, (long)address, (long)length, MadvPopulateWrite));
                var reading = TimeSpan.Zero;
                while (Timed(source.ReadNextPageRun, ref reading) is { } run)
                {
                    writer.Add(run);
                    options.BytesRestored?.Report(writer.Written);
                }
                writer.Flush();
                userFaults?.Release();
                pageBytes = writer.Written;
                logger.LogDebug("Restore of {OriginalPid}: page phase {Pages:F2} ms ({How}): waiting for the image {Reading:F2} ms, prefault {Prefault:F2} ms, writing {Write:F2} ms",
                    originalPid, (total.Elapsed - layoutReady).TotalMilliseconds, userFaults is null ? "process_vm_writev" : "UFFDIO_COPY",
                    reading.TotalMilliseconds, writer.PrefaultTime.TotalMilliseconds, writer.WriteTime.TotalMilliseconds);
            }
            var pagesWritten = total.Elapsed;
            build.ProtectRegions();
            build.RestoreFiles(descriptors);
            build.RestoreProcessState(pid != originalPid);
            build.RestoreCredentials();
            build.DropTrampoline();
            Ptrace.SetExtendedState(pid, image.Cpu.ExtendedState);
            Ptrace.SetSignalMask(pid, image.Signals.BlockedMask);
            Ptrace.SetRegs(pid, UserRegs.FromBytes(image.Cpu.GeneralRegisters));
            if (!options.KeepFrozen) Ptrace.Detach(pid);
            logger.LogDebug("Restore of {OriginalPid}: stub stopped at {Stub:F2} ms, layout at {Layout:F2} ms, pages at {Pages:F2} ms, done at {Done:F2} ms",
                originalPid, stubReady.TotalMilliseconds, layoutReady.TotalMilliseconds, pagesWritten.TotalMilliseconds, total.Elapsed.TotalMilliseconds);
            logger.LogInformation("Restored process {OriginalPid} as {Pid}: {MiB:F1} MiB of pages in {Ms:F1} ms",
                originalPid, pid, pageBytes / 1048576.0, total.Elapsed.TotalMilliseconds);
            return new RestoredProcess(pid, pid == originalPid, originalPid, total.Elapsed);
        }
        catch
        {
            Signals.Kill(pid, Signals.SIGKILL);
            while (Waiting.WaitPid(pid).Stopped)
            {
                // the SIGKILL is on its way; ptrace stops may still be reported before the exit
            }
            throw;
        }
    }

    private static void Validate(ProcessImage image)
    {
        if (image.Cpu.GeneralRegisters.Length != UserRegs.Size)
            throw new CorruptImageException($"image registers are {image.Cpu.GeneralRegisters.Length} bytes, expected {UserRegs.Size}");
        if (image.Signals.Actions.Length != 64) throw new CorruptImageException("image must hold 64 signal actions");
        for (var i = 1; i < image.Regions.Count; i++)
            if (image.Regions[i].Start < image.Regions[i - 1].End) throw new CorruptImageException("image regions overlap or are out of order");
    }

    // A different kernel is not refused outright: the vdso/vvar sizes are the hard check (done when moving them).
    private void WarnOnKernelDifference(ProcessImage image)
    {
        var kernel = SystemInfo.Uname();
        if (image.Origin.KernelRelease.Length > 0 && image.Origin.KernelRelease != kernel.Release)
            logger.LogWarning("Image was taken on kernel {ImageKernel}, this is {Kernel}: vdso layout and syscall behaviour may differ",
                image.Origin.KernelRelease, kernel.Release);
    }

    private static T Timed<T>(Func<T> step, ref TimeSpan spent)
    {
        var start = Stopwatch.GetTimestamp();
        var result = step();
        spent += Stopwatch.GetElapsedTime(start);
        return result;
    }

    internal static ulong PageAlign(ulong value) => (value + 0xfff) & ~0xfffUL;
}
