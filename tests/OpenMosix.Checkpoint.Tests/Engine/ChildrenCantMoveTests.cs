using Microsoft.Extensions.Logging.Abstractions;
using OpenMosix.Checkpoint.CantMove;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Tracing;
using OpenMosix.Linux;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.EngineFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

/// <summary>A process with children cannot leave them behind: refused before it is touched, and again once frozen.</summary>
public sealed class ChildrenCantMoveTests
{
    /// <summary>A shell that starts <paramref name="background"/> and then becomes the sleeper test program, which
    /// prints a tick every 50 ms to <paramref name="output"/> and never waits for the child it inherited.</summary>
    private static (ChildProcess Parent, int Child) StartParent(string background, string output)
    {
        var sleeper = TestPrograms.Locate("sleeper");
        var parent = ChildProcess.StartToFile("/bin/sh", ["-c", $"{background} & exec {sleeper} 1200 50"], output);
        var child = 0;
        Poll.Until(() => ProcFs.ReadExecutable(parent.Pid) == sleeper && ProcFs.ReadChildren(parent.Pid) is [var only] && (child = only) > 0,
            Patience, "the sleeper with its child");
        return (parent, child);
    }

    /// <summary>Runs <paramref name="test"/> on such a parent and its child, then kills both (the whole group).</summary>
    private static void WithParent(string background, Action<ChildProcess, int, string> test)
    {
        using var dir = new TempDirectory();
        var output = dir.File("out");
        var (parent, child) = StartParent(background, output);
        using (parent)
        {
            try
            {
                test(parent, child, output);
            }
            finally
            {
                Signals.Kill(-parent.Pid, Signals.SIGKILL);
            }
        }
    }

    private static void AssertRunsOnUntouched(ChildProcess parent, string output, int child)
    {
        var status = ProcFs.ReadStatus(parent.Pid);
        Assert.Equal(0, status.TracerPid);
        Assert.NotEqual('t', status.State);
        Assert.Equal([child], ProcFs.ReadChildren(parent.Pid));
        var ticks = Poll.CountLines(output);
        Poll.UntilLines(output, ticks + 2, Patience);
    }

    [Fact]
    public void A_process_with_a_running_child_is_refused_naming_the_child_and_runs_on_untouched()
    {
        WithParent("/bin/sleep 60", (parent, child, output) =>
        {
            using var engine = new CheckpointEngine();
            var reason = $"has a child process ({child}) that it has not waited for; it can move once the child has been waited for";
            Assert.Contains(reason, engine.AnalyzeCantMove(parent.Pid).Reasons);
            var refused = Assert.Throws<CantMoveException>(() => engine.Checkpoint(parent.Pid, new InMemoryImage(), new DumpOptions(AfterDump.Kill)));
            Assert.Contains(reason, refused.Report.Reasons);
            AssertRunsOnUntouched(parent, output, child);
        });
    }

    [Fact]
    public void A_process_whose_child_has_exited_but_not_been_waited_for_is_refused()
    {
        WithParent("/bin/true", (parent, child, output) =>
        {
            Poll.Until(() => ProcFs.ReadStat(child).State == 'Z', Patience, "the child to be a zombie");
            using var engine = new CheckpointEngine();
            Assert.Contains(engine.AnalyzeCantMove(parent.Pid).Reasons, r => r.StartsWith($"has a child process ({child})", StringComparison.Ordinal));
            Assert.Throws<CantMoveException>(() => engine.Checkpoint(parent.Pid, new InMemoryImage(), new DumpOptions(AfterDump.Kill)));
            AssertRunsOnUntouched(parent, output, child);
        });
    }

    [Fact]
    public void A_child_found_once_the_process_is_frozen_makes_the_dump_refuse_and_resume_it()
    {
        // The analysis cannot be made to miss a child on cue, so the dumper is run alone, as after an analysis that
        // came just before the fork: its own check, made while the process is frozen, must catch the child.
        WithParent("/bin/sleep 60", (parent, child, output) =>
        {
            using var tracer = new TracerThread();
            var dumper = new Dumper(NullLogger.Instance, tracer);
            var kept = new List<int>();
            var refused = Assert.Throws<CantMoveException>(() =>
                tracer.Run(() => dumper.Dump(parent.Pid, new InMemoryImage(), new DumpOptions(AfterDump.Kill), kept.Add)));
            Assert.Equal([CantMoveAnalyzer.ChildrenReason([child])!], refused.Report.Reasons);
            Assert.Empty(kept);
            AssertRunsOnUntouched(parent, output, child);
        });
    }

    [Fact]
    public void A_migration_leaves_a_child_at_home_but_refuses_one_that_shares_the_parents_memory()
    {
        WithParent("/bin/sleep 60", (parent, child, _) =>
        {
            using var engine = new CheckpointEngine();
            Assert.DoesNotContain(engine.AnalyzeCantMove(parent.Pid, forwarding: true).Reasons, r => r.Contains($"({child})", StringComparison.Ordinal));
        });
        using var dir = new TempDirectory();
        using var shared = ChildProcess.StartToFile(TestPrograms.Locate("vmchild"), [], dir.File("out"));
        try
        {
            var sharing = 0;
            Poll.Until(() => ProcFs.ReadChildren(shared.Pid) is [var only] && (sharing = only) > 0, Patience, "the child sharing its memory");
            using var engine = new CheckpointEngine();
            Assert.Contains($"has a child process ({sharing}) that shares its memory (vfork or CLONE_VM): it cannot stay at home without it",
                engine.AnalyzeCantMove(shared.Pid, forwarding: true).Reasons);
        }
        finally
        {
            Signals.Kill(-shared.Pid, Signals.SIGKILL);
        }
    }

    [Fact]
    public void A_process_without_children_gives_no_children_reason()
    {
        Assert.Null(CantMoveAnalyzer.ChildrenReason([]));
    }

    [Fact]
    public void Many_children_are_counted_and_the_first_five_named()
    {
        Assert.Equal("has 2 child processes (10, 11) that it has not waited for; it can move once they have been waited for",
            CantMoveAnalyzer.ChildrenReason([10, 11]));
        Assert.Equal("has 7 child processes (1, 2, 3, 4, 5, ...) that it has not waited for; it can move once they have been waited for",
            CantMoveAnalyzer.ChildrenReason([1, 2, 3, 4, 5, 6, 7]));
        Assert.Equal("has 5 child processes (1, 2, 3, 4, 5) that it has not waited for; it can move once they have been waited for",
            CantMoveAnalyzer.ChildrenReason([1, 2, 3, 4, 5]));
    }
}
