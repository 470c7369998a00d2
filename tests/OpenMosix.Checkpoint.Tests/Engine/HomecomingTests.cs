using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.EngineFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

/// <summary>A trip home pre-copied into the deputy while the copy runs on, and a new stdin for a process kept frozen.</summary>
public sealed class HomecomingTests
{
    [Fact]
    public void A_process_pre_copied_into_its_deputy_while_its_copy_runs_finishes_there_exactly_like_an_uninterrupted_run()
    {
        using var dir = new TempDirectory();
        var churner = TestPrograms.Locate("churner");
        string[] arguments = ["24", "250", "15"];
        using var reference = ChildProcess.StartToFile(churner, arguments, dir.File("expected"));
        // Held after 9 ticks (its 10th line, churner's HOLD), where the rounds end: however slow the machine, it is still
        // there for the final image, which holds what it changed since the last round, not what a slow test let it do.
        using var child = ChildProcess.StartToFile(churner, [.. arguments, "9"], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 4, Patience);
        using var home = new CheckpointEngine();
        using var away = new CheckpointEngine();
        var copy = MoveAway(home, away, child.Pid);

        using var session = away.StartPrecopy(copy.Pid)!;
        PrecopyTarget? target = null;
        for (var round = 1; round <= 2; round++)
        {
            using var reader = Round(session);
            if (target is null) target = home.BeginPrecopyInto(child.Pid, reader);
            else home.ContinuePrecopyInto(target, reader);
            // The copy runs on between rounds, and the deputy stays one: it still stands for the copy at home.
            Poll.UntilLines(dir.File("out"), 4 + round * 3, Patience); // absolute: the last count is where it holds
        }
        Assert.Equal(2, target!.Rounds);

        var final = new MemoryStream();
        using (var writer = new ImageWriter(final, new ImageWriterOptions(LeaveOpen: true)))
            away.Checkpoint(copy.Pid, writer, new DumpOptions(AfterDump.KeepFrozen) { Precopy = session });
        away.KillFrozen(copy.Pid);
        Assert.True(final.Length < 12 << 20, $"final image of {final.Length} bytes for a 24 MiB process");
        final.Position = 0;
        using var finalReader = new ImageReader(final);
        Assert.Equal(child.Pid, home.FinishPrecopyInto(target, finalReader, new RestoreOptions()).Pid);
        OpenMosix.Linux.Signals.Kill(child.Pid, OpenMosix.Linux.Signals.SIGUSR1);

        Assert.Equal(new ChildExit(0, 0), child.WaitForExit(Patience));
        Assert.Equal(new ChildExit(0, 0), reference.WaitForExit(Patience));
        Assert.Equal(File.ReadAllText(dir.File("expected")), File.ReadAllText(dir.File("out")));
    }

    [Fact]
    public void A_deputy_whose_pre_copied_trip_home_is_called_off_gives_its_memory_back_and_can_still_be_ended()
    {
        using var dir = new TempDirectory();
        using var child = ChildProcess.StartToFile(TestPrograms.Locate("memticker"), ["32", "1000", "20"], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 2, Patience);
        using var home = new CheckpointEngine();
        using var away = new CheckpointEngine();
        var copy = MoveAway(home, away, child.Pid);
        using var session = away.StartPrecopy(copy.Pid)!;
        using var reader = Round(session);
        var target = home.BeginPrecopyInto(child.Pid, reader);
        Assert.True(DeputyTests.Rss(child.Pid) > 24 << 20, "the round filled the deputy");

        home.AbandonPrecopyInto(target);
        Assert.True(DeputyTests.Rss(child.Pid) < 4 << 20, "an emptied deputy again");
        home.EndDeputy(child.Pid, new ExitStatus(7, 0));
        Assert.Equal(new ChildExit(7, 0), child.WaitForExit(Patience));
        away.KillFrozen(copy.Pid);
    }

    [Fact]
    public void A_frozen_process_given_a_new_stdin_reads_what_is_written_there_and_then_its_end()
    {
        using var dir = new TempDirectory();
        var (read, write) = Pipe();
        ChildProcess child;
        using (read)
            child = ChildProcess.StartToFile("/bin/cat", [], dir.File("out"), stdin: read);
        using (write)
        {
            WriteAll(write, "old\n");
            Poll.UntilLines(dir.File("out"), 1, Patience);
            using var engine = new CheckpointEngine();
            engine.Checkpoint(child.Pid, new NullSink(), new DumpOptions(AfterDump.KeepFrozen));
            using (var fresh = engine.ReplaceInput(child.Pid))
                WriteAll(fresh, "put back\n");
            engine.Thaw(child.Pid);
            // The old stdin is no longer read: cat ends at the new one's end, though the old one is still open.
            Assert.Equal(new ChildExit(0, 0), child.WaitForExit(Patience));
        }
        child.Dispose();
        Assert.Equal("old\nput back\n", File.ReadAllText(dir.File("out")));
    }

    /// <summary>The process is frozen at home, restored away (running), and its original made a deputy.</summary>
    internal static RestoredProcess MoveAway(CheckpointEngine home, CheckpointEngine away, int pid)
    {
        var outbound = new InMemoryImage();
        home.Checkpoint(pid, outbound, new DumpOptions(AfterDump.KeepFrozen));
        var copy = away.Restore(outbound, new RestoreOptions(TryOriginalPid: false) { KeepFrozen = true });
        home.MakeDeputy(pid);
        away.Thaw(copy.Pid);
        return copy;
    }

    internal static ImageReader Round(PrecopySession session)
    {
        var stream = new MemoryStream();
        using (var writer = new ImageWriter(stream, new ImageWriterOptions(LeaveOpen: true))) session.WriteRound(writer);
        stream.Position = 0;
        return new ImageReader(stream);
    }
}
