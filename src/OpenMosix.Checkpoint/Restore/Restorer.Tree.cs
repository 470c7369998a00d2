using System.Diagnostics;
using OpenMosix.Checkpoint.Tree;
using static OpenMosix.Checkpoint.Tracing.SyscallNumbers;

namespace OpenMosix.Checkpoint.Restore;

internal sealed partial class Restorer
{
    /// <summary>
    /// Rebuilds a process tree: every image read and checked first; then the root's stub is spawned (with the
    /// shared pipes), every other stub made by its parent's, parents first (<see cref="ChildStubs"/>), sessions
    /// set as each is made and groups joined once all exist; then each process is rebuilt in its stub and kept
    /// frozen. The caller lets them all go. On any failure every stub made so far is killed and collected.
    /// </summary>
    public List<RestoredProcess> RestoreTree(TreeImage tree, Func<int, IImageSource> open, RestoreOptions options)
    {
        var total = Stopwatch.StartNew();
        var running = tree.Processes.Where(p => p.ExitStatus is null).ToList();
        var sources = new Dictionary<int, IImageSource>();
        var images = new Dictionary<int, ProcessImage>();
        foreach (var p in running)
        {
            var source = sources[p.Pid] = open(p.Pid);
            var image = images[p.Pid] = source.ReadMetadata();
            Validate(image, options);
            if (image.Origin.Pid != p.Pid)
                throw new CorruptImageException($"corrupt tree section: the image of process {p.Pid} holds process {image.Origin.Pid}");
            if (image.Precopy is not null) throw new RestoreException($"the image of process {p.Pid} completes a pre-copy");
            CallerCredentials.RequireRestorable(image.Attributes.Credentials);
            CpuCompatibility.Check(image);
        }
        WarnOnKernelDifference(images[tree.RootPid]);
        var own = options.OwnPidNamespace;
        // In a namespace of the tree's own every PID of it is free.
        foreach (var p in tree.Processes.Skip(1).Where(p => !own && HeldAfterReaping(p.Pid)))
            throw new RestoreException($"PID {p.Pid} of the tree is taken here ({Describe(p.Pid)}): its parent knows it by that PID, " +
                "so the tree is rebuilt only where its children's PIDs are free");

        var stubs = new Dictionary<int, Stub>();
        var made = new List<int>();
        TreePidNamespace? space = null;
        try
        {
            Dictionary<int, int> rootMap;
            using (var pipes = new SharedDescriptors(tree, images))
            {
                rootMap = pipes.ForRoot(InheritedDescriptors(options, images[tree.RootPid]));
                var root = tree.RootPid;
                // Its children's PIDs follow: the next PID moves past them the moment the root has its own (anything
                // forking while the root's stub is set up would take them otherwise), and again once it is set up.
                stubs[root] = StartStub(images[root], rootMap, !own && options.TryOriginalPid && !Signals.Exists(root) ? root : 0, total,
                    ownPidNamespace: own, namespaceMade: n => space = n, skipPast: own ? 0 : tree.Processes.Max(p => p.Pid));
                made.Add(stubs[root].Pid);
                if (!own) StubSpawner.SkipPast(tree.Processes.Max(p => p.Pid));
                MakeChildren(tree, images, stubs, made, total, own);
                JoinGroups(tree, stubs, own);
                foreach (var p in running)
                {
                    var stub = stubs[p.Pid];
                    CpuCompatibility.CheckExtendedStateSize(images[p.Pid].Cpu.ExtendedState.Length, Ptrace.GetExtendedState(stub.Pid).Length);
                    pipes.Install(stub.Injector, p.Pid);
                }
                // The restorer's ends close here: every stub holds its own now.
                foreach (var p in running)
                    Rebuild(stubs[p.Pid].Pid, images[p.Pid], sources[p.Pid], options with { KeepFrozen = true }, stubs[p.Pid].Injector,
                        stubs[p.Pid].Builder, pipes.Inherited(rootMap, p.Pid), total, StubTraceOptions);
            }
            if (space is not null)
            {
                space.Seal();
                // Ours to reap whenever it leaves, which it decides by itself (nothing left in its namespace).
                HolderMade?.Invoke(space.Init);
            }
            logger.LogInformation("Restored the tree of {Pid}: {Count} processes in {Ms:F1} ms", tree.RootPid, running.Count, total.Elapsed.TotalMilliseconds);
            return [.. running.Select(p => new RestoredProcess(stubs[p.Pid].Pid, stubs[p.Pid].Pid == p.Pid, p.Pid, total.Elapsed))];
        }
        catch
        {
            // Children first: a parent's stub killed first would hand them to init before we collect them.
            foreach (var pid in Enumerable.Reverse(made))
            {
                _deferred.Remove(pid);
                try
                {
                    KillStub(pid);
                }
                catch (SyscallException)
                {
                    // gone already
                }
            }
            space?.Abandon();
            throw;
        }
    }

    /// <summary>Every process below the root, made by its parent's stub in tree order (parents first).</summary>
    private void MakeChildren(TreeImage tree, Dictionary<int, ProcessImage> images, Dictionary<int, Stub> stubs, List<int> made, Stopwatch total,
        bool ownPidNamespace)
    {
        foreach (var p in tree.Processes.Skip(1))
        {
            if (!stubs.TryGetValue(p.ParentPid, out var parentStub))
                throw new CorruptImageException($"corrupt tree section: process {p.Pid}'s parent {p.ParentPid} is not a running process of the tree");
            var parent = new ParentStub(parentStub.Pid, parentStub.Injector, parentStub.Trampoline);
            if (p.ExitStatus is { } status)
            {
                ChildStubs.MakeExited(parent, p, status);
                continue;
            }
            var stub = StartStub(images[p.Pid], new Dictionary<int, int>(), 0, total, make: elf =>
            {
                var pid = ChildStubs.Make(parent, p, elf);
                made.Add(pid);
                return pid;
            }, ownPidNamespace: ownPidNamespace);
            stubs[p.Pid] = stub;
            if (TreeIds.LeadsSession(p)) stub.Injector.Call("setsid", Setsid);
        }
    }

    /// <summary>
    /// Each process joins its group from inside: the root's (whatever group the root's stub is in), its own, or
    /// that of another process of the tree, leaders first so that a group exists before anyone joins it. In a PID
    /// namespace of the tree's own a group's id there is its old one.
    /// </summary>
    private static void JoinGroups(TreeImage tree, Dictionary<int, Stub> stubs, bool ownPidNamespace)
    {
        var root = tree.Processes[0];
        var rootGroup = stubs[root.Pid].Injector.Call("getpgid", Getpgid, 0);
        foreach (var p in tree.Processes.Skip(1).Where(p => p.ExitStatus is null).OrderBy(p => p.ProcessGroup == p.Pid ? 0 : 1))
        {
            var injector = stubs[p.Pid].Injector;
            var wanted = p.ProcessGroup == root.ProcessGroup ? rootGroup : ownPidNamespace ? p.ProcessGroup : stubs[p.ProcessGroup].Pid;
            if (injector.Call("getpgid", Getpgid, 0) != wanted) injector.Call($"setpgid to group {wanted}", Setpgid, 0, wanted);
        }
    }

    /// <summary>
    /// Whether <paramref name="pid"/> is in use here. A zombie holding it (a process of the tree just killed after
    /// its checkpoint, orphaned, waiting for init to reap it) is given a bounded while to go.
    /// </summary>
    private static bool HeldAfterReaping(int pid)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Signals.Exists(pid))
        {
            try
            {
                if (ProcFs.ReadStat(pid).State is not ('Z' or 'X') || DateTime.UtcNow > deadline) return true;
            }
            catch (ProcessAccessException)
            {
                continue; // reaped just now
            }
            Thread.Sleep(2);
        }
        return false;
    }

    private static string Describe(int pid)
    {
        try
        {
            return $"by {ProcFs.ReadComm(pid)}";
        }
        catch (ProcessAccessException)
        {
            return "by a process that has just ended";
        }
    }
}
