using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Cli.Tests;

/// <summary>
/// om checkpoint --tree and om restore of its directory: a shell with jobs, a pipeline and make -j2, killed after
/// their checkpoint and rebuilt with their parent/child relations, finish exactly as an uninterrupted run does.
/// </summary>
public sealed class ProcessTreeTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private const string JobsScript = """
        echo started
        ( i=0; while [ $i -lt 20 ]; do i=$((i+1)); sleep 0.05; done; echo first job done; exit 3 ) &
        ( i=0; while [ $i -lt 50 ]; do i=$((i+1)); sleep 0.05; done; echo second job done; exit 5 ) &
        wait %1; echo "first job exited $?"
        wait %2; echo "second job exited $?"
        """;

    private const string PipelineScript =
        "seq 1 100000 | while read n; do echo \"line $n\"; done | awk '{ s += length($0) } END { print \"bytes\", s, NR }'";

    [Fact]
    public void A_shell_with_two_jobs_is_restored_and_its_wait_collects_their_real_exit_statuses()
    {
        using var dir = new TempDirectory("om-tree-jobs");
        var expected = RunUninterrupted(dir, "/bin/bash", JobsScript);
        var output = CheckpointKillRestore(dir, "/bin/bash", _ => (JobsScript, shell => ProcFs.ReadChildren(shell).Count == 2), "the shell's two jobs");
        Assert.Equal(expected, output);
        Assert.Contains("first job exited 3", output, StringComparison.Ordinal);
        Assert.Contains("second job exited 5", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pipeline_is_restored_with_its_processes_connected_and_what_was_in_its_pipes()
    {
        using var dir = new TempDirectory("om-tree-pipe");
        var expected = RunUninterrupted(dir, "/bin/sh", PipelineScript);
        var output = CheckpointKillRestore(dir, "/bin/sh", _ => (PipelineScript, shell => ProcFs.ReadChildren(shell).Count == 3), "the pipeline's three processes");
        Assert.Equal(expected, output);
        Assert.Equal("bytes 988895 100000\n", output);
    }

    [Fact]
    public void Make_j2_checkpointed_mid_build_and_restored_builds_the_same_objects()
    {
        using var dir = new TempDirectory("om-tree-make");
        var plain = GenerateProject(dir.Subdirectory("plain"));
        File.WriteAllText(Path.Combine(plain, "go"), "");
        var expected = RunUninterrupted(dir, "/bin/sh", $"cd {plain} && make -j2");
        var moved = "";
        var output = CheckpointKillRestore(dir, "/bin/sh", attempt =>
        {
            // A fresh project for each attempt: one whose restore found its PIDs taken was killed half built.
            moved = GenerateProject(dir.Subdirectory($"moved{attempt}"));
            return ($"cd {moved} && exec make -j2", make => ProcFs.ReadChildren(make).Count > 0 && File.Exists(Path.Combine(moved, "u1.o")));
        }, "make building", () => File.WriteAllText(Path.Combine(moved, "go"), ""));
        Assert.Equal(expected.Replace(plain, moved, StringComparison.Ordinal).Split('\n').Order(), output.Split('\n').Order());
        foreach (var name in new[] { "u1.o", "u2.o", "u3.o", "u4.o", "u5.o", "u6.o", "prog" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(plain, name)), File.ReadAllBytes(Path.Combine(moved, name)));
    }

    [Fact]
    public void Checkpoint_without_tree_refuses_a_parent_in_one_line_naming_its_children_and_leaves_it_running()
    {
        using var dir = new TempDirectory("om-tree-refuse");
        using var shell = ChildProcess.StartToFile("/bin/bash", ["-c", JobsScript], dir.File("out.txt"));
        Poll.Until(() => ProcFs.ReadChildren(shell.Pid).Count == 2, Patience, "the shell's two jobs");
        var children = ProcFs.ReadChildren(shell.Pid);

        var refused = CommandRun.Run(OmBinary.Path, ["checkpoint", shell.Pid.ToString(), "-o", dir.File("one.img")]);

        Assert.NotEqual(0, refused.ExitCode);
        var line = Assert.Single(refused.Stderr.TrimEnd().Split('\n'));
        Assert.Contains("--tree", line, StringComparison.Ordinal);
        foreach (var child in children) Assert.Contains(child.ToString(), line, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("one.img")));
        Assert.Equal(new ChildExit(0, 0), shell.WaitForExit(Patience));
        Assert.Contains("second job exited 5", File.ReadAllText(dir.File("out.txt")), StringComparison.Ordinal);
    }

    [Fact]
    public void Restoring_a_tree_whose_child_pids_are_taken_fails_cleanly_and_the_originals_finish()
    {
        using var dir = new TempDirectory("om-tree-taken");
        using var shell = CheckpointRunningJobs(dir);

        // The originals run on and hold the children's PIDs.
        var restore = CommandRun.Run(OmBinary.Path, ["restore", dir.File("tree")], timeout: Patience);

        Assert.NotEqual(0, restore.ExitCode);
        Assert.Contains("is taken here", Assert.Single(restore.Stderr.TrimEnd().Split('\n')), StringComparison.Ordinal);
        Assert.Equal(new ChildExit(0, 0), shell.WaitForExit(Patience));
        Assert.EndsWith("second job exited 5\n", File.ReadAllText(dir.File("out.txt")), StringComparison.Ordinal);
    }

    [Fact]
    public void A_damaged_tree_file_is_refused_in_one_line_before_anything_runs()
    {
        using var dir = new TempDirectory("om-tree-corrupt");
        using var shell = CheckpointRunningJobs(dir);
        var treeFile = Path.Combine(dir.File("tree"), "tree");
        var bytes = File.ReadAllBytes(treeFile);
        bytes[100] ^= 0x20;
        File.WriteAllBytes(treeFile, bytes);

        var restore = CommandRun.Run(OmBinary.Path, ["restore", dir.File("tree")], timeout: Patience);

        Assert.Equal(1, restore.ExitCode);
        Assert.Contains("corrupt image", Assert.Single(restore.Stderr.TrimEnd().Split('\n')), StringComparison.Ordinal);
        Assert.Equal(new ChildExit(0, 0), shell.WaitForExit(Patience));
    }

    /// <summary>The jobs script, its tree checkpointed into <c>tree</c> while both jobs run; it runs on.</summary>
    private static ChildProcess CheckpointRunningJobs(TempDirectory dir)
    {
        var shell = ChildProcess.StartToFile("/bin/bash", ["-c", JobsScript], dir.File("out.txt"));
        Poll.Until(() => ProcFs.ReadChildren(shell.Pid).Count == 2, Patience, "the shell's two jobs");
        var taken = CommandRun.Run(OmBinary.Path, ["checkpoint", "--tree", shell.Pid.ToString(), "-o", dir.File("tree")], timeout: Patience);
        Assert.True(taken.ExitCode == 0, taken.ToString());
        return shell;
    }

    /// <summary>Runs the script with its output to a file and returns that output.</summary>
    private static string RunUninterrupted(TempDirectory dir, string shell, string script)
    {
        var output = dir.File($"plain-{Guid.NewGuid():N}.txt");
        using var run = ChildProcess.StartToFile(shell, ["-c", script], output);
        Assert.Equal(new ChildExit(0, 0), run.WaitForExit(Patience));
        return File.ReadAllText(output);
    }

    /// <summary>
    /// Starts the script, waits until it is ready, checkpoints its tree with --kill, restores it with om restore (which
    /// waits for the root) and returns the output of both runs together. A tree comes back only where its PIDs are
    /// free, and under a busy suite pid_max wraps in seconds: a restore that found one taken is tried again with a
    /// fresh run (FreeIds); any other failure fails the test. <paramref name="beforeRestore"/> lets a held tree go.
    /// </summary>
    private static string CheckpointKillRestore(TempDirectory dir, string shell, Func<int, (string Script, Func<int, bool> Ready)> prepare, string what,
        Action? beforeRestore = null)
    {
        string? restored = null;
        var attempts = 0;
        FreeIds.HoldInOneOf(5, () =>
        {
            var (script, ready) = prepare(attempts++);
            var output = dir.File($"moved-{Guid.NewGuid():N}.txt");
            var image = dir.File($"tree-{Guid.NewGuid():N}");
            using var run = ChildProcess.StartToFile(shell, ["-c", script], output);
            Poll.Until(() => ready(run.Pid), Patience, what);

            var checkpoint = CommandRun.Run(OmBinary.Path, ["checkpoint", "--tree", "--kill", run.Pid.ToString(), "-o", image], timeout: Patience);
            Assert.True(checkpoint.ExitCode == 0, checkpoint.ToString());
            Assert.Equal(new ChildExit(0, 9), run.WaitForExit(Patience));
            beforeRestore?.Invoke();
            var restore = CommandRun.Run(OmBinary.Path, ["restore", image], timeout: Patience);
            if (restore.ExitCode != 0 && restore.Stderr.Contains("of the tree", StringComparison.Ordinal)
                && restore.Stderr.Contains("taken here", StringComparison.Ordinal))
                return restore.Stderr.Trim();
            Assert.True(restore.ExitCode == 0, restore.ToString());
            restored = File.ReadAllText(output);
            return null;
        });
        return restored!;
    }

    /// <summary>Every unit but u1 waits for a file `go` before it compiles: make is certain to be at work on two units
    /// once u1.o exists, however a loaded machine paces it, until the test creates `go` (a run not checkpointed has it from
    /// the start; a checkpointed one gets it between the checkpoint and the restore).</summary>
    private const string HeldCompile = "[ $* = u1 ] || while [ ! -e go ]; do sleep 0.05; done; cc -O2 -fPIC -c -o $@ $<";

    /// <summary>Six translation units and a link (<see cref="HeldCompile"/>).</summary>
    private static string GenerateProject(string directory)
    {
        for (var i = 1; i <= 6; i++)
            File.WriteAllText(Path.Combine(directory, $"u{i}.c"), $"int f{i}(int x) {{ int s = 0; for (int i = 0; i < x; i++) s += i * {i}; return s; }}\n");
        File.WriteAllText(Path.Combine(directory, "Makefile"),
            "prog: u1.o u2.o u3.o u4.o u5.o u6.o\n\tcc -shared -o $@ $^\n%.o: %.c\n\t" + HeldCompile + "\n");
        return directory;
    }
}
