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
/// A process tree holds children that have exited and that their parent has not reaped yet (a job's short `sleep`
/// just ended). Its checkpoint records each as an exit (pid and wait status) and the restore makes it again as a
/// zombie child of its restored parent, whose wait then collects it as if nothing had happened. `unreaped` leaves its
/// child's exit unreaped until told (SIGUSR1), so each test decides when the child ends and when it is reaped.
/// </summary>
public sealed class TreeZombieTests
{
    [Fact]
    public void An_unreaped_child_comes_back_as_a_zombie_whose_pid_and_status_the_restored_parent_collects()
    {
        using var dir = new TempDirectory();
        var output = dir.File("out");
        var attempt = 0;
        FreeIds.HoldInOneOf(5, () =>
        {
            using var parent = ChildProcess.StartToFile(TestPrograms.Locate("unreaped"), ["7"], output);
            var child = ChildOf(parent.Pid, output);
            Signals.Kill(child, Signals.SIGUSR1);
            Poll.Until(() => ProcFs.ReadStat(child).State == 'Z', Patience, $"child {child} to become a zombie");

            using var engine = new CheckpointEngine();
            var image = dir.File($"tree{attempt++}");
            TreeDumpResult taken;
            using (var directory = TreeImageDirectory.Create(image, compress: false))
                taken = engine.CheckpointTree(parent.Pid, directory, new DumpOptions(AfterDump.Kill));
            Assert.Equal((1, 1), (taken.Running, taken.Exited));
            Assert.Equal(new ChildExit(0, 9), parent.WaitForExit(Patience));
            // The killed parent's zombie goes to init (or a subreaper), which frees its PID once it reaps it.
            Poll.Until(() => !Directory.Exists($"/proc/{child}"), Patience, $"the old zombie {child} to be reaped");

            RestoredProcess restored;
            try
            {
                restored = RestoreTree(engine, image);
            }
            catch (RestoreException e) when (e.Message.Contains("of the tree", StringComparison.Ordinal) && e.Message.Contains("taken here", StringComparison.Ordinal))
            {
                return e.Message; // another process got one of its PIDs first (pid_max wraps in minutes under load): another run
            }
            Assert.Equal(parent.Pid, restored.Pid);
            var zombie = ProcFs.ReadStat(child);
            Assert.Equal(('Z', parent.Pid), (zombie.State, zombie.PPid));
            Signals.Kill(restored.Pid, Signals.SIGUSR1);
            Assert.Equal(new ExitStatus(0, 0), engine.WaitForExitWithin(restored, Patience));
            Assert.EndsWith($"reaped {child} exited 7\n", File.ReadAllText(output), StringComparison.Ordinal);
            return null;
        });
    }

    /// <summary>The flake of a shell's jobs (issue #12): a child seen running by the first look at the tree exited
    /// before its analysis, which refused the tree with "process N: is a zombie". The child is made to exit exactly
    /// there.</summary>
    [Fact]
    public void A_child_that_exits_between_the_first_look_at_the_tree_and_its_analysis_is_taken_as_an_exit_not_a_refusal()
    {
        using var dir = new TempDirectory();
        var output = dir.File("out");
        using var parent = ChildProcess.StartToFile(TestPrograms.Locate("unreaped"), ["5"], output);
        var child = ChildOf(parent.Pid, output);
        var analysed = new List<int>();
        TreeDumper.BeforeAnalysisHooks[parent.Pid] = member =>
        {
            analysed.Add(member);
            if (member != child) return;
            Signals.Kill(child, Signals.SIGUSR1);
            Poll.Until(() => ProcFs.ReadStat(child).State == 'Z', Patience, $"child {child} to become a zombie");
        };
        try
        {
            using var engine = new CheckpointEngine();
            using var directory = TreeImageDirectory.Create(dir.File("tree"), compress: false);
            var taken = engine.CheckpointTree(parent.Pid, directory, new DumpOptions(AfterDump.Resume));
            Assert.Equal((1, 1), (taken.Running, taken.Exited));
            Assert.Equal([parent.Pid, child], analysed);
        }
        finally
        {
            TreeDumper.BeforeAnalysisHooks.TryRemove(parent.Pid, out _);
        }
        // Resumed, the parent reaps its child as it would have.
        Signals.Kill(parent.Pid, Signals.SIGUSR1);
        Assert.Equal(new ChildExit(0, 0), parent.WaitForExit(Patience));
        Assert.EndsWith($"reaped {child} exited 5\n", File.ReadAllText(output), StringComparison.Ordinal);
    }

    /// <summary>om cantmove asks as a migration does: the parent's deputy at home stays the zombie's parent and reaps
    /// it for the moved parent, so an unreaped child is no reason; a checkpoint of the parent alone names it (om adds
    /// how --tree takes it along); the zombie itself is refused as exited.</summary>
    [Fact]
    public void An_unreaped_child_lets_its_parent_migrate_and_is_named_by_a_checkpoint_of_the_parent_alone()
    {
        using var dir = new TempDirectory();
        var output = dir.File("out");
        using var parent = ChildProcess.StartToFile(TestPrograms.Locate("unreaped"), ["3"], output);
        var child = ChildOf(parent.Pid, output);
        Signals.Kill(child, Signals.SIGUSR1);
        Poll.Until(() => ProcFs.ReadStat(child).State == 'Z', Patience, $"child {child} to become a zombie");

        using var engine = new CheckpointEngine();
        var migration = engine.AnalyzeCantMove(parent.Pid, forwarding: true);
        Assert.True(migration.CanMove, string.Join("; ", migration.Reasons));
        var alone = Assert.Single(engine.AnalyzeCantMove(parent.Pid).Reasons);
        Assert.Contains($"({child})", alone, StringComparison.Ordinal);
        Assert.Equal(["is a zombie (already exited)"], engine.AnalyzeCantMove(child).Reasons);

        Signals.Kill(parent.Pid, Signals.SIGUSR1);
        Assert.Equal(new ChildExit(0, 0), parent.WaitForExit(Patience));
        Assert.EndsWith($"reaped {child} exited 3\n", File.ReadAllText(output), StringComparison.Ordinal);
    }

    /// <summary>The child `unreaped` forked, once it has said so and sits in its sigwait.</summary>
    private static int ChildOf(int parent, string output)
    {
        Poll.UntilLines(output, 1, Patience);
        var child = int.Parse(File.ReadAllText(output).Split(' ', '\n')[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal([child], ProcFs.ReadChildren(parent));
        UntilBlockedIn(child, 128); // rt_sigtimedwait
        return child;
    }

    private static RestoredProcess RestoreTree(CheckpointEngine engine, string directory)
    {
        TreeImage tree;
        using (var reader = new ImageReader(File.OpenRead(Path.Combine(directory, TreeImageDirectory.TreeFileName))))
            tree = reader.ReadTree();
        var readers = new List<ImageReader>();
        try
        {
            return engine.RestoreTree(tree, pid =>
            {
                var reader = new ImageReader(File.OpenRead(Path.Combine(directory, $"{pid}.img")));
                readers.Add(reader);
                return reader;
            }, new RestoreOptions())[0];
        }
        finally
        {
            readers.ForEach(r => r.Dispose());
        }
    }
}
