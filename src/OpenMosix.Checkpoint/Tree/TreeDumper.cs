using System.Collections.Concurrent;
using System.Diagnostics;
using OpenMosix.Checkpoint.CantMove;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Tracing;

namespace OpenMosix.Checkpoint.Tree;

/// <summary>What a process tree's checkpoint wrote.</summary>
public sealed record TreeDumpResult(int RootPid, int Running, int Exited, int SharedPipes, ulong PageBytes, TimeSpan Frozen);

/// <summary>
/// Checkpoints a process and all its descendants together. Each is frozen and dumped by the per-process dumper, kept
/// frozen, parents before children: once a parent is stopped it can fork no more, so the children read after its
/// stop are all it has, and a child that was born meanwhile is found and taken along. An exited child its frozen
/// parent has not waited for stays a zombie and is recorded with its status. When every process is frozen, the
/// pipes they share are read (with what is buffered in them) and the tree is written; then all are killed or all run
/// on. Any failure lets every process frozen so far run on where it was. Runs on the tracer thread.
/// </summary>
internal sealed class TreeDumper(ILogger logger, Dumper dumper)
{
    /// <summary>Tests only: called with each running member of a root's tree just before it is analysed, before any
    /// is frozen (a child can be made to exit exactly there).</summary>
    internal static readonly ConcurrentDictionary<int, Action<int>> BeforeAnalysisHooks = new();

    public TreeDumpResult Dump(int root, TreeImageDirectory directory, DumpOptions options)
    {
        RefuseWhatCannotTravel(root);
        var frozen = new List<int>();
        var processes = new List<TreeProcess>();
        var clock = Stopwatch.StartNew();
        ulong pageBytes = 0;
        try
        {
            var perProcess = options with { After = AfterDump.KeepFrozen, WithChildren = true };
            var queue = new Queue<(int Pid, int Parent)>([(root, 0)]);
            while (queue.TryDequeue(out var next))
            {
                var (pid, parent) = next;
                // A child of a frozen parent cannot be reaped, unless the parent lets the kernel reap its children.
                if (parent != 0 && !Directory.Exists($"/proc/{pid}")) continue;
                var stat = ProcFs.ReadStat(pid);
                if (parent != 0 && stat.State is 'Z' or 'X')
                {
                    processes.Add(Describe(stat, parent, Zombie(pid, stat)));
                    continue;
                }
                if (parent != 0 && EndedWhileAnalysed(pid, processes, frozen))
                {
                    // It exited since its state was read (a job's `sleep` ending): a zombie of the tree, as above.
                    if (Exited(pid) is { } ended) processes.Add(Describe(ended, parent, Zombie(pid, ended)));
                    continue;
                }
                try
                {
                    using var writer = directory.OpenProcess(pid);
                    pageBytes += dumper.Dump(pid, writer, perProcess, frozen.Add).PageBytes;
                }
                catch (ProcessAccessException) when (parent != 0 && !frozen.Contains(pid))
                {
                    // It was exiting: ptrace refuses a process on its way out. It is a zombie in a moment (its parent
                    // is frozen), or gone if its parent lets the kernel reap its children.
                    directory.Forget(pid);
                    if (Exited(pid) is { } ended) processes.Add(Describe(ended, parent, Zombie(pid, ended)));
                    continue;
                }
                catch (TraceeGoneException e) when (parent != 0 && e.Pid == pid)
                {
                    // It ended while it was being frozen (a job's short `sleep`): its frozen parent has not reaped
                    // it, so it is a zombie of the tree like one found exited, not a reason to give the tree up.
                    frozen.Remove(pid);
                    directory.Forget(pid);
                    if (Exited(pid) is { } ended) processes.Add(Describe(ended, parent, Zombie(pid, ended)));
                    continue;
                }
                processes.Add(Describe(stat, parent, exitStatus: null));
                foreach (var child in ProcFs.ReadChildren(pid)) queue.Enqueue((child, pid));
            }
            var pipes = TreePipeScan.Read(frozen);
            var problems = TreePipeScan.Unrebuildable(pipes).Concat(TreeIds.Unrebuildable(processes)).ToList();
            if (problems.Count > 0) throw new CantMoveException(new CantMoveReport(root, problems));
            var tree = new TreeImage { RootPid = root, Processes = processes, Pipes = TreePipeScan.Describe(pipes), Files = TreeFileScan.Read(frozen) };
            directory.WriteTree(tree);
            directory.Commit();
            var result = new TreeDumpResult(root, frozen.Count, processes.Count - frozen.Count, tree.Pipes.Count, pageBytes, clock.Elapsed);
            if (options.After == AfterDump.Kill) KillAll(frozen);
            else ThawAll(frozen);
            logger.LogInformation("Checkpointed the tree of {Pid}: {Running} processes, {Exited} exited, {Pipes} shared pipes, frozen {Ms:F1} ms",
                root, result.Running, result.Exited, result.SharedPipes, result.Frozen.TotalMilliseconds);
            return result;
        }
        catch (Exception e)
        {
            logger.LogWarning("Checkpoint of the tree of {Pid} failed, letting {Count} processes run on: {Error}", root, frozen.Count, e.Message);
            ThawAll(frozen);
            throw;
        }
    }

    /// <summary>Everything of the tree as it runs now that could not be rebuilt, before any process is touched.</summary>
    private static void RefuseWhatCannotTravel(int root)
    {
        var members = Descendants(root);
        var shared = TreePipeScan.Shared(TreePipeScan.Read(members));
        var reasons = new List<string>();
        foreach (var pid in members)
        {
            if (pid != root && ProcFs.HasEnded(pid)) continue;
            if (BeforeAnalysisHooks.TryGetValue(root, out var hook)) hook(pid);
            CantMoveReport report;
            try
            {
                report = CantMoveAnalyzer.Analyze(pid, treePipes: shared);
            }
            catch (ProcessAccessException) when (pid != root && !Directory.Exists($"/proc/{pid}"))
            {
                continue; // a short-lived child, reaped since the listing: not part of the tree any more
            }
            // A child that exited while it was read (its parent has not reaped it yet) is a zombie the tree takes
            // along with its status, not a reason to refuse the tree; whatever was read of it on its way out is moot.
            if (pid != root && !report.CanMove && ProcFs.HasEnded(pid)) continue;
            reasons.AddRange(report.Reasons.Select(r => pid == root ? r : $"process {pid}: {r}"));
        }
        if (reasons.Count > 0) throw new CantMoveException(new CantMoveReport(root, reasons));
    }

    /// <summary>
    /// A child born since the first look is analysed now that its parent is frozen. True when it exited meanwhile
    /// (a zombie, or gone if its parent lets the kernel reap its children): then it is no reason to refuse the tree.
    /// </summary>
    private static bool EndedWhileAnalysed(int pid, List<TreeProcess> known, List<int> frozen)
    {
        var members = frozen.Append(pid).ToList();
        CantMoveReport report;
        try
        {
            report = CantMoveAnalyzer.Analyze(pid, treePipes: TreePipeScan.Shared(TreePipeScan.Read(members)));
        }
        catch (ProcessAccessException) when (!Directory.Exists($"/proc/{pid}"))
        {
            return true;
        }
        if (report.CanMove) return false;
        if (ProcFs.HasEnded(pid)) return true;
        throw new CantMoveException(new CantMoveReport(known[0].Pid, [.. report.Reasons.Select(r => $"process {pid}: {r}")]));
    }

    private static List<int> Descendants(int root)
    {
        var all = new List<int> { root };
        for (var i = 0; i < all.Count; i++) all.AddRange(ProcFs.ReadChildren(all[i]));
        return all;
    }

    /// <summary>The process once it has become a zombie, or null when it is gone; a bounded wait.</summary>
    private static ProcStat? Exited(int pid)
    {
        var deadline = DateTime.UtcNow.AddSeconds(2);
        while (true)
        {
            ProcStat stat;
            try
            {
                stat = ProcFs.ReadStat(pid);
            }
            catch (ProcessAccessException)
            {
                return null;
            }
            if (stat.State is 'Z' or 'X') return stat;
            if (DateTime.UtcNow > deadline) throw new ProcessAccessException(pid, "refused to be traced and did not exit");
            Thread.Sleep(1);
        }
    }

    /// <summary>The wait status its parent will collect (exit_code of /proc/PID/stat).</summary>
    private static int Zombie(int pid, ProcStat stat)
    {
        if (ProcFs.ReadTasks(pid).Count > 1)
            throw new CantMoveException(new CantMoveReport(pid, ["its main thread has exited while other threads run on"]));
        return (int)stat.Number(52) & 0xffff;
    }

    private static TreeProcess Describe(ProcStat stat, int parent, int? exitStatus) => new()
    {
        Pid = stat.Pid,
        ParentPid = parent,
        ProcessGroup = stat.ProcessGroup,
        Session = (int)stat.Number(6),
        ExitSignal = stat.ExitSignalField,
        ExitStatus = exitStatus,
    };

    private void ThawAll(List<int> frozen)
    {
        foreach (var pid in frozen)
        {
            ThreadGroup.DetachOthers(pid);
            KilledTracee.Detach(pid, logger);
        }
        frozen.Clear();
    }

    /// <summary>Kills every process of the tree at once, then collects each as its tracer (the root's parent, or
    /// init for orphans, reaps them).</summary>
    private static void KillAll(List<int> frozen)
    {
        var threads = frozen.ToDictionary(pid => pid, ThreadGroup.OtherThreads);
        var ours = frozen.Where(KilledTracee.IsOurChild).ToHashSet();
        foreach (var pid in frozen) Signals.Kill(pid, Signals.SIGKILL);
        foreach (var pid in frozen)
        {
            ThreadGroup.CollectKilledThreads(threads[pid]);
            if (ours.Contains(pid))
            {
                Waiting.WaitForExitWithoutReaping(pid);
                continue;
            }
            while (Waiting.WaitPid(pid, Waiting.WALL).Stopped)
            {
                // stops queued before the kill come out first
            }
        }
        // The children's PIDs are free again only once init (or a subreaper) has reaped them: a restore right after
        // wants them. Their reaper is not ours to hurry, so this waits a bounded while.
        var deadline = DateTime.UtcNow.AddSeconds(2);
        foreach (var pid in frozen.Skip(1))
            while (Directory.Exists($"/proc/{pid}") && DateTime.UtcNow < deadline) Thread.Sleep(1);
        frozen.Clear();
    }
}
