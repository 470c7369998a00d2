using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Image;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Checkpoint.Tree;
using OpenMosix.Linux;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.EngineFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

/// <summary>
/// A process tree rebuilt in a PID namespace of its own (RestoreOptions.OwnPidNamespace, what a migration target that
/// shares its PID namespace with the tree's home needs: the deputies hold the PIDs there): every member keeps its
/// old PID inside while the originals, stopped here, still hold them, so the shell's `wait` collects each job's
/// status by the PID it knows; the namespace's init ends with the tree, and reaps what the tree orphans.
/// </summary>
public sealed class TreePidNamespaceTests
{
    /// <summary>Two jobs that wait for a file, then end with 3 and 5 (the second leaves a grandchild that outlives it
    /// by a moment: an orphan for the namespace's init), and the shell's waits for each by the PID it had at its fork
    /// (a status the kernel reported under another PID would be no child of the shell's: `wait` says so and gives 127).</summary>
    private static string Script(string go) => $$"""
        echo started
        ( while [ ! -e {{go}} ]; do sleep 0.02; done; echo "first job $BASHPID"; exit 3 ) & first=$!
        ( while [ ! -e {{go}} ]; do sleep 0.02; done; ( sleep 0.3 ) & echo "second job $BASHPID"; exit 5 ) & second=$!
        wait $first; echo "first job exited $?"
        wait $second; echo "second job exited $?"
        """;

    [Fact]
    public void A_tree_whose_pids_are_taken_here_keeps_them_in_its_own_namespace_and_its_shell_collects_each_job_by_it()
    {
        using var dir = new TempDirectory("om-tree-pidns");
        var go = dir.File("go");
        using var original = ChildProcess.StartToFile("/bin/bash", ["-c", Script(go)], dir.File("out"));
        Poll.Until(() => ProcFs.ReadChildren(original.Pid).Count == 2, Patience, "the shell's two jobs");
        var jobs = ProcFs.ReadChildren(original.Pid).Order().ToList();
        using var engine = new CheckpointEngine();
        using (var directory = TreeImageDirectory.Create(dir.File("tree"), compress: false))
            engine.CheckpointTree(original.Pid, directory, new DumpOptions(AfterDump.Resume));
        // The originals hold their PIDs, stopped: they write nothing while the copy runs.
        foreach (var pid in jobs.Prepend(original.Pid)) Signals.Kill(pid, Signals.SIGSTOP);
        try
        {
            var restored = RestoreTree(engine, dir.File("tree"));
            var root = restored[0];
            var namespaceLink = NamespaceOf(root.Pid);
            Assert.NotEqual(NamespaceOf(Environment.ProcessId), namespaceLink);
            Assert.Equal(original.Pid, root.OriginalPid);
            // The jobs' sleeps may be caught too: members of the tree like the others.
            Assert.Subset(restored.Select(r => r.OriginalPid).ToHashSet(), jobs.ToHashSet());
            // The jobs' sleeps, if any, may have ended meanwhile: the shell and its jobs wait for the go.
            foreach (var copy in restored.Where(r => r == root || jobs.Contains(r.OriginalPid)))
            {
                Assert.NotEqual(copy.OriginalPid, copy.Pid); // taken here by the stopped original
                Assert.Equal(new List<int> { copy.Pid, copy.OriginalPid }, NestedPids(copy.Pid));
                if (copy != root) Assert.Equal(root.Pid, ProcFs.ReadStatus(copy.Pid).PPid);
            }

            File.WriteAllText(go, "");
            Assert.Equal(new ExitStatus(0, 0), engine.WaitForExitWithin(root, Patience));

            var output = File.ReadAllText(dir.File("out"));
            Assert.Equal($"started\nfirst job {jobs[0]}\nfirst job exited 3\nsecond job {jobs[1]}\nsecond job exited 5\n",
                OrderedJobLines(output));
            // The namespace ends with the tree: its init leaves once the orphaned sleep is reaped, and the engine reaps it.
            Poll.Until(() => !ProcessesIn(namespaceLink).Any(), Patience, "the tree's PID namespace to empty");
        }
        finally
        {
            foreach (var pid in jobs.Prepend(original.Pid)) Signals.Kill(pid, Signals.SIGKILL);
            original.WaitForExit(Patience);
        }
    }

    [Fact]
    public void A_threaded_member_finds_its_threads_under_the_ids_it_knows_in_the_trees_namespace()
    {
        // thr_state checks in every round, in every thread, glibc's cached TID against gettid, pthread_kill on itself,
        // and its pending signals and names through /proc/self/task/TID (the namespace's own /proc): any miss ends it
        // with a failure status, which the shell's wait reports.
        using var dir = new TempDirectory("om-tree-pidns-threads");
        var script = $"{TestPrograms.Locate("thr_state")} 400 50 & job=$!; wait $job; echo \"thr_state exited $?\"";
        using var original = ChildProcess.StartToFile("/bin/bash", ["-c", script], dir.File("out"));
        Poll.Until(() => ProcFs.ReadChildren(original.Pid) is [var job] && ProcFs.ReadStatus(job) is { Name: "thr_state", Threads: > 1 },
            Patience, "thr_state and its threads");
        var threaded = ProcFs.ReadChildren(original.Pid).Single();
        using var engine = new CheckpointEngine();
        using (var directory = TreeImageDirectory.Create(dir.File("tree"), compress: false))
            engine.CheckpointTree(original.Pid, directory, new DumpOptions(AfterDump.Resume));
        Signals.Kill(threaded, Signals.SIGSTOP);
        Signals.Kill(original.Pid, Signals.SIGSTOP);
        try
        {
            var tids = ProcFs.ReadTasks(threaded).Order().ToList();
            var restored = RestoreTree(engine, dir.File("tree"));
            var copy = restored.Single(r => r.OriginalPid == threaded);
            try
            {
                Assert.Equal(tids, ProcFs.ReadTasks(copy.Pid).Select(t => NestedPids(copy.Pid, t)[^1]).Order());
            }
            catch (IOException)
            {
                Assert.Fail($"the copy ended at once: {engine.WaitForExitWithin(restored[0], Patience)}, {File.ReadAllText(dir.File("out"))[^400..]}");
            }

            Assert.Equal(new ExitStatus(0, 0), engine.WaitForExitWithin(restored[0], Patience));
            var output = File.ReadAllText(dir.File("out"));
            Assert.DoesNotContain("FAIL", output, StringComparison.Ordinal);
            Assert.EndsWith("thr_state done threads=4 rounds=400\nthr_state exited 0\n", output, StringComparison.Ordinal);
        }
        finally
        {
            Signals.Kill(threaded, Signals.SIGKILL);
            Signals.Kill(original.Pid, Signals.SIGKILL);
            original.WaitForExit(Patience);
        }
    }

    private static List<RestoredProcess> RestoreTree(CheckpointEngine engine, string directory)
    {
        TreeImage tree;
        using (var file = File.OpenRead(Path.Combine(directory, TreeImageDirectory.TreeFileName)))
        using (var reader = new ImageReader(file))
            tree = reader.ReadTree();
        var readers = new List<ImageReader>();
        try
        {
            return [.. engine.RestoreTree(tree, pid =>
            {
                var reader = new ImageReader(File.OpenRead(Path.Combine(directory, TreeValidator.ImageName(pid))));
                readers.Add(reader);
                return reader;
            }, new RestoreOptions { OwnPidNamespace = true })];
        }
        finally
        {
            readers.ForEach(r => r.Dispose());
        }
    }

    /// <summary>The second job's line may come before the first job's exit is reported: the shell's lines in order, each
    /// job's own line just before its exit line.</summary>
    private static string OrderedJobLines(string output)
    {
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        var ordered = new List<string> { lines[0] };
        foreach (var name in new[] { "first", "second" })
        {
            ordered.Add(Assert.Single(lines, l => l.StartsWith($"{name} job ", StringComparison.Ordinal) && !l.Contains("exited", StringComparison.Ordinal)));
            ordered.Add(Assert.Single(lines, l => l.StartsWith($"{name} job exited", StringComparison.Ordinal)));
        }
        Assert.True(lines.Count == ordered.Count, $"unexpected lines in: {output}");
        return string.Join('\n', ordered) + "\n";
    }

    private static string NamespaceOf(int pid) => new FileInfo($"/proc/{pid}/ns/pid").LinkTarget ?? "";

    /// <summary>The process's PID in each namespace it is in, ours first (NSpid of /proc/PID/status).</summary>
    private static List<int> NestedPids(int pid, int? tid = null) =>
        [.. File.ReadAllLines(tid is { } t ? $"/proc/{pid}/task/{t}/status" : $"/proc/{pid}/status").Single(l => l.StartsWith("NSpid:", StringComparison.Ordinal))["NSpid:".Length..]
            .Split('\t', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse)];

    private static IEnumerable<int> ProcessesIn(string namespaceLink)
    {
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var pid)) continue;
            string? link;
            try
            {
                link = new FileInfo($"/proc/{pid}/ns/pid").LinkTarget;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // gone meanwhile
            }
            if (link == namespaceLink) yield return pid;
        }
    }
}
