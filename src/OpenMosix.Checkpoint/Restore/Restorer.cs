using Microsoft.Win32.SafeHandles;
using System.Diagnostics;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Postcopy;
using OpenMosix.Checkpoint.Tree;
using static OpenMosix.Checkpoint.Tracing.SyscallNumbers;

namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// Rebuilds a process from an image inside a freshly spawned stub, driving it with injected syscalls: unmap the
/// stub, move vdso/vvar, rebuild the break, map every region, fill it, reopen files, restore signals, timers,
/// limits and identity, credentials last, then registers, and let it go. Runs on the tracer thread.
/// </summary>
internal sealed partial class Restorer(ILogger logger, TracerThread tracer)
{
    internal static readonly string[] SpecialNames = ["[vvar]", "[vvar_vclock]", "[vdso]"];
    /// <summary>Processes restored frozen whose threads are made when they are let go (<see cref="TakeDeferred"/>).</summary>
    private readonly Dictionary<int, ThreadFinish> _deferred = [];

    /// <summary>The rest of the restore of a process kept frozen, to run before it is let go; null when nothing is left.</summary>
    internal ThreadFinish? TakeDeferred(int pid) => _deferred.Remove(pid, out var finish) ? finish : null;

    /// <summary>A stub dies with its tracer: half a process must never run on.</summary>
    private const int StubTraceOptions = Ptrace.O_TRACESYSGOOD | Ptrace.O_EXITKILL;

    /// <summary>Fill anonymous memory with UFFDIO_COPY where the kernel allows it (off: process_vm_writev only).</summary>
    internal bool FillWithUserFaults { get; set; } = true;

    public RestoredProcess Restore(IImageSource source, RestoreOptions options)
    {
        var total = Stopwatch.StartNew();
        var image = source.ReadMetadata();
        Validate(image, options);
        if (image.Precopy is not null)
            throw new RestoreException("this image completes a pre-copy and holds only what changed: it can only be restored over the pre-copied process");
        RequireForwarding(image, options);
        CallerCredentials.RequireRestorable(image.Attributes.Credentials);
        WarnOnKernelDifference(image);
        CpuCompatibility.Check(image);
        var originalPid = image.Origin.Pid;
        var descriptors = InheritedDescriptors(options, image);

        var stub = StartStub(image, descriptors, options.TryOriginalPid && !Signals.Exists(originalPid) ? originalPid : 0, total,
            holdSession: options.ControllingTerminal);
        try
        {
            CpuCompatibility.CheckExtendedStateSize(image.Cpu.ExtendedState.Length, Ptrace.GetExtendedState(stub.Pid).Length);
            var forwarding = Rebuild(stub.Pid, image, source, options, stub.Injector, stub.Builder, descriptors, total, StubTraceOptions,
                lazyPages: options.LazyPages);
            return Restored(stub.Pid, image, forwarding, total.Elapsed);
        }
        catch
        {
            KillStub(stub.Pid);
            throw;
        }
    }

    /// <summary>What the new process inherits: the options' choice for this image, else the restorer's own 0, 1, 2.</summary>
    private static IReadOnlyDictionary<int, int> InheritedDescriptors(RestoreOptions options, ProcessImage image) =>
        options.DescriptorsFor?.Invoke(image)
        ?? (options.InheritedDescriptors is { Count: > 0 } given ? given : new Dictionary<int, int> { [0] = 0, [1] = 1, [2] = 2 });

    private sealed record Stub(int Pid, SyscallInjector Injector, ProcessBuilder Builder, ulong Trampoline);

    /// <summary>Told of every stand-in session leader made (a child of this process that ends by itself): the engine
    /// reaps it.</summary>
    internal Action<int>? HolderMade { get; set; }

    /// <summary>The image's lowest terminal descriptor, when the new process inherits it; else -1.</summary>
    private static int TerminalDescriptor(ProcessImage image, IReadOnlyDictionary<int, int> descriptors) =>
        image.Files.Where(f => f.Kind == FileKind.Terminal).Select(f => f.Fd).DefaultIfEmpty(-1).Min() is var fd && descriptors.ContainsKey(fd) ? fd : -1;

    /// <summary>
    /// Spawns a stub for <paramref name="image"/>'s layout (its break where the image's heap starts, a trampoline
    /// where the image has nothing), seizes it, and empties its address space down to the trampoline, with vdso and
    /// vvar moved to the image's addresses. A failure kills the stub.
    /// </summary>
    /// <param name="make">Makes the stub from its ELF some other way (a tree's child, by its parent) and returns it
    /// seized and stopped at its entry; null spawns it.</param>
    /// <param name="holdSession">the stub is a migration's copy that gets its terminal as its controlling terminal: when
    /// the image has a terminal it is born a member of a stand-in leader's session (<see cref="SessionHolder"/>).</param>
    /// <param name="ownPidNamespace">the stub is a tree's, in the tree's PID namespace of its own, where it has its old
    /// ids; with no <paramref name="make"/> (the root) the namespace is made for it (<see cref="TreePidNamespace"/>) and
    /// handed to <paramref name="namespaceMade"/>, to be sealed once every stub of the tree is made.</param>
    private Stub StartStub(ProcessImage image, IReadOnlyDictionary<int, int> descriptors, int wantedPid, Stopwatch total,
        IEnumerable<MemoryRegion>? alsoTaken = null, Func<byte[], int>? make = null, bool holdSession = false, bool ownPidNamespace = false,
        Action<TreePidNamespace>? namespaceMade = null, int skipPast = 0)
    {
        var space = new AddressSpace();
        foreach (var r in image.Regions.Concat(alsoTaken ?? [])) space.Reserve(r.Start, r.End);
        var (brkSegment, trampoline) = PlaceTrampoline(space, image);

        var elf = StubElf.Build(trampoline, brkSegment);
        var holder = 0;
        if (make is null && holdSession && TerminalDescriptor(image, descriptors) is >= 0 and var terminal)
        {
            make = stubElf =>
            {
                var (stub, made) = SessionHolder.Make(stubElf, trampoline, descriptors, terminal, wantedPid, StubTraceOptions, logger);
                holder = made;
                // Ours to reap whenever it leaves, which it decides by itself.
                HolderMade?.Invoke(made);
                return stub;
            };
        }
        if (make is null && ownPidNamespace)
        {
            make = stubElf =>
            {
                var (stub, made) = TreePidNamespace.MakeRoot(stubElf, trampoline, descriptors, image.Origin.Pid, StubTraceOptions, logger);
                namespaceMade?.Invoke(made);
                return stub;
            };
        }
        var pid = make?.Invoke(elf) ?? StubSpawner.Spawn(elf, descriptors, wantedPid, logger, skipPast: skipPast);
        try
        {
            if (make is null) Freezer.SeizeAndStop(pid, StubTraceOptions);
            var regs = Ptrace.GetRegs(pid);
            if (regs.rip < trampoline || regs.rip >= trampoline + 0x1000)
                throw new RestoreException($"restore stub {pid} stopped at 0x{regs.rip:x}, outside its code at 0x{trampoline:x}");
            Ptrace.SetSignalMask(pid, ulong.MaxValue);
            var injector = new SyscallInjector(pid, trampoline + StubElf.SyscallOffset, regs);
            logger.LogDebug("Restore of {OriginalPid}: stub stopped at {Stub:F2} ms", image.Origin.Pid, total.Elapsed.TotalMilliseconds);
            var build = new ProcessBuilder(pid, image, injector, trampoline, space, logger) { HeldSession = holder > 0, InnerIds = ownPidNamespace };
            build.ReplaceStubAddressSpace(brkSegment);
            return new Stub(pid, injector, build, trampoline);
        }
        catch
        {
            KillStub(pid);
            throw;
        }
    }

    /// <summary>
    /// Reserves in <paramref name="space"/> the room the image's break grows in (when its heap starts where a break
    /// can be rebuilt: then that start is the returned segment, else 0) and a free place below it for the restore
    /// trampoline.
    /// </summary>
    private static (ulong BrkSegment, ulong Trampoline) PlaceTrampoline(AddressSpace space, ProcessImage image)
    {
        var startBrk = image.Attributes.StartBrk;
        var brkSegment = startBrk >= 0x20000 && startBrk % 4096 == 0 ? startBrk : 0;
        if (brkSegment != 0) space.Reserve(brkSegment - 0x1000, PageAlign(Math.Max(image.Attributes.Brk, startBrk)) + (2 << 20));
        var trampoline = space.FindFree(StubElf.TrampolineSize, 0x100000, brkSegment != 0 ? brkSegment - 0x1000 : 1UL << 46);
        if (trampoline == 0) throw new RestoreException("no free address below the image's heap for the restore trampoline");
        space.Reserve(trampoline, trampoline + StubElf.TrampolineSize);
        return (brkSegment, trampoline);
    }

    private static void KillStub(int pid)
    {
        var threads = ThreadGroup.OtherThreads(pid);
        Signals.Kill(pid, Signals.SIGKILL);
        ThreadGroup.CollectKilledThreads(threads);
        while (Waiting.WaitPid(pid).Stopped)
        {
            // the SIGKILL is on its way; ptrace stops may still be reported before the exit
        }
    }

    /// <summary>
    /// Everything after the address space was emptied, shared by a fresh stub and a deputy: map and fill the
    /// regions, files, process state, credentials, registers; then let it go (unless kept frozen).
    /// </summary>
    /// <returns>the forwarded descriptors and the listener of their filter (none when the image forwards nothing, or
    /// when it is rebuilt into its deputy, which holds the real descriptors).</returns>
    /// <param name="lazyPages">Post-copy (a fresh restore only): private anonymous memory is left missing, served
    /// from this source by the returned server, started before anything of the process can touch it.</param>
    /// <summary>The process rebuilt as <paramref name="pid"/>, with what its rebuild set up to serve it from home.</summary>
    private static RestoredProcess Restored(int pid, ProcessImage image,
        (IReadOnlyList<int> Fds, SafeFileHandle? Listener, IReadOnlyDictionary<int, ForwardMirrorEnds> Mirrors, PostcopyServer? Postcopy) forwarding,
        TimeSpan total) =>
        new(pid, pid == image.Origin.Pid, image.Origin.Pid, total)
        {
            Forwarded = forwarding.Fds,
            ForwardListener = forwarding.Listener,
            ForwardMirrors = forwarding.Mirrors,
            HomeGroup = image.Attributes.ProcessGroup,
            ReservedFrom = ProcessBuilder.ReservedFrom(image),
            ReservedTop = ProcessBuilder.ReservedFrom(image) + ProcessBuilder.ReservedCount,
            Postcopy = forwarding.Postcopy,
        };

    private (IReadOnlyList<int> Fds, SafeFileHandle? Listener, IReadOnlyDictionary<int, ForwardMirrorEnds> Mirrors, PostcopyServer? Postcopy) Rebuild(int pid, ProcessImage image, IImageSource source, RestoreOptions options,
        SyscallInjector injector, ProcessBuilder build, IReadOnlyDictionary<int, int> descriptors, Stopwatch total, int traceOptions,
        IReadOnlySet<ulong>? kept = null, IPageSource? lazyPages = null, IReadOnlyList<AddressRange>? missing = null)
    {
        var originalPid = image.Origin.Pid;
        bool Kept(MemoryRegion r) => kept?.Contains(r.Start) == true;
        build.AssumeFilesystemIdentity();
        build.MapRegions(Kept);
        var layoutReady = total.Elapsed;
        var withContents = image.Regions.Where(RegionBuilder.HasContents).ToList();
        ulong pageBytes;
        // Pre-copied regions already hold their pages: what arrives for them overwrites, which UFFDIO_COPY cannot.
        // UFFDIO_COPY fills anonymous memory only: a shared file's pages are written through its mapping.
        // UFFDIO_COPY fills private anonymous memory only: shared memory (a file's, or anonymous) is written through.
        var fresh = withContents.Where(r => !ProcessBuilder.MappedFromFile(r) && r.Kind is not (RegionKind.SharedFile or RegionKind.SharedAnonymous) && !Kept(r));
        var pending = lazyPages is null ? null : new PendingPages();
        if (pending is not null && options.LazyWholeRegions)
            foreach (var r in fresh.Where(LazyMemory.IsLazy)) pending.Add(r.Start, r.Length);
        // Post-copy after pre-copy rounds: kept regions hold their pages but those that changed since the last round.
        var served = fresh;
        if (pending is not null && missing is { Count: > 0 })
        {
            foreach (var range in missing) pending.Add(range.Start, range.Length);
            served = fresh.Concat(withContents.Where(r => Kept(r) && missing.Any(m => r.Start <= m.Start && m.End <= r.End))).ToList();
        }
        PostcopyServer? postcopy = null;
        using (var userFaults = lazyPages is not null ? UserFaultPages.OpenForServing(pid, injector, served)
            : FillWithUserFaults ? UserFaultPages.TryOpen(pid, injector, fresh, logger) : null)
        {
            var writer = new PageWriter(pid, withContents, userFaults,
                (address, length) => injector.Raw(Madvise, (long)address, (long)length, MadvPopulateWrite), pending);
            var reading = TimeSpan.Zero;
            // A restore takes seconds, mostly waiting for the sender: meanwhile other processes are let run, turned
            // into deputies, ended (a target taking two processes at once would otherwise hold the first frozen).
            using var serving = ServeBriefWhileWaiting(source);
            while (Timed(source.ReadNextPageRun, ref reading) is { } run)
            {
                writer.Add(run);
                options.BytesRestored?.Report(writer.Written);
                tracer.ServeBrief();
            }
            writer.Flush();
            // Whatever the rest of the restore touches of the missing memory (a system call's buffer, a thread's
            // stack) is served from now on.
            if (pending is { IsEmpty: false }) postcopy = StartPostcopy(pid, userFaults!.TakeDescriptor(), pending, lazyPages!, options.PushLazyPages);
            else userFaults?.Release();
            pageBytes = writer.Written;
            logger.LogDebug("Restore of {OriginalPid}: page phase {Pages:F2} ms ({How}): waiting for the image {Reading:F2} ms, prefault {Prefault:F2} ms, writing {Write:F2} ms",
                originalPid, (total.Elapsed - layoutReady).TotalMilliseconds, postcopy is not null ? $"post-copy, {pending!.Bytes / 1048576.0:F1} MiB left missing" : userFaults is null ? "process_vm_writev" : "UFFDIO_COPY",
                reading.TotalMilliseconds, writer.PrefaultTime.TotalMilliseconds, writer.WriteTime.TotalMilliseconds);
        }
        var pagesWritten = total.Elapsed;
        try
        {
            var (fds, listener, mirrors) = Finish(pid, image, options, build, descriptors, traceOptions);
            logger.LogDebug("Restore of {OriginalPid}: layout at {Layout:F2} ms, pages at {Pages:F2} ms, done at {Done:F2} ms",
                originalPid, layoutReady.TotalMilliseconds, pagesWritten.TotalMilliseconds, total.Elapsed.TotalMilliseconds);
            logger.LogInformation("Restored process {OriginalPid} as {Pid}: {MiB:F1} MiB of pages in {Ms:F1} ms",
                originalPid, pid, pageBytes / 1048576.0, total.Elapsed.TotalMilliseconds);
            return (fds, listener, mirrors, postcopy);
        }
        catch
        {
            postcopy?.Dispose();
            throw;
        }
    }

    private PostcopyServer StartPostcopy(int pid, UserFaultFd fd, PendingPages pending, IPageSource source, bool push)
    {
        var server = new PostcopyServer(fd, pending, source, PidFd.Open(pid), push, logger);
        server.Start();
        return server;
    }

    /// <summary>After the pages: files, process state, the forwarding filter, threads; let go unless kept frozen.</summary>
    private (IReadOnlyList<int> Fds, SafeFileHandle? Listener, IReadOnlyDictionary<int, ForwardMirrorEnds> Mirrors) Finish(int pid, ProcessImage image,
        RestoreOptions options, ProcessBuilder build, IReadOnlyDictionary<int, int> descriptors, int traceOptions)
    {
        build.ProtectRegions();
        build.RestoreFiles(descriptors, options.ForwardDescriptors);
        if (options.ControllingTerminal) build.TakeControllingTerminal();
        build.RestoreProcessState();
        var forwarded = options.ForwardDescriptors
            ? image.Files.Where(f => f.Kind == FileKind.Forwarded && !descriptors.ContainsKey(f.Fd)).Select(f => f.Fd).ToList()
            : [];
        // Before the threads are made (they inherit it) and before the credentials drop (installing it needs CAP_SYS_ADMIN).
        // Every migration target gets it: the calls about the process's children and parent are carried out at home.
        var listener = options.ForwardDescriptors ? build.InstallForwardingFilter(forwarded, options.ForwardPaths, options.ControllingTerminal, options.ForwardSockets) : null;
        var finish = new ThreadFinish(pid, image, build, traceOptions, options.WaitForOriginalThreadIds, options.WaitForOriginalLockerIds, logger);
        // A copy kept frozen gets its threads only when it is let go: by then the original may have given their ids
        // back (in one PID namespace, as in a lab, the home node's frozen process holds them until it is a deputy).
        if (options.KeepFrozen && image.Threads.Count > 0) _deferred[pid] = finish;
        else finish.Run(detach: !options.KeepFrozen);
        return (forwarded, listener, build.ForwardMirrors);
    }

    /// <summary>Forwarded descriptors are served by a migration's home; a restore that is not a migration target has none to give.</summary>
    private static void RequireForwarding(ProcessImage image, RestoreOptions options)
    {
        if (!options.ForwardDescriptors && image.Files.FirstOrDefault(f => f.Kind == FileKind.Forwarded) is { } f)
            throw new RestoreException($"fd {f.Fd} ({f.Path}) was left at home to be forwarded, which only a migration target can serve");
    }

    private static void Validate(ProcessImage image, RestoreOptions options)
    {
        if (options.Refusal?.Invoke(image) is { } refused) throw new ImageRefusedException(refused);
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

    /// <summary>Until disposed, the source waits for its page runs serving brief tracer work.</summary>
    private Restoring ServeBriefWhileWaiting(IImageSource source)
    {
        source.WaitForSection = tracer.WaitServingBrief;
        return new Restoring(source);
    }

    private sealed class Restoring(IImageSource source) : IDisposable
    {
        public void Dispose() => source.WaitForSection = null;
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
