using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Linux;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.ThreadFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

/// <summary>
/// A copy that went home (or on) is ended by its node, which sends home the signals that reached it since its image
/// was read (issue #17). A signal sent in the last moment before the end must be among them, not die with the copy:
/// the engine's <see cref="CheckpointEngine.BeforeEnd"/> hook sends it exactly then, so the window is certain.
/// </summary>
public sealed class EndFrozenTests
{
    private static ChildProcess Start(TempDirectory dir, string program, params string[] arguments)
    {
        var child = ChildProcess.StartToFile(TestPrograms.Locate(program), arguments, dir.File("out"));
        try
        {
            Poll.Until(() => Poll.CountLines(dir.File("out")) >= 2, EngineFixtures.Patience, "the program's first lines");
            return child;
        }
        catch
        {
            child.Dispose();
            throw;
        }
    }

    [Fact]
    public void Signals_sent_just_before_a_frozen_process_is_ended_are_returned_with_those_since_its_image()
    {
        using var dir = new TempDirectory();
        using var child = Start(dir, "sleeper", "1000", "20");
        using var engine = new CheckpointEngine
        {
            BeforeEnd = pid =>
            {
                Signals.Kill(pid, Signals.SIGUSR2);
                Signals.Kill(pid, 35);
            },
        };
        engine.Checkpoint(child.Pid, new NullSink(), new DumpOptions(AfterDump.KeepFrozen));
        Signals.Kill(child.Pid, Signals.SIGTERM);

        Assert.Equal([Signals.SIGTERM, Signals.SIGUSR2, 35], engine.EndFrozen(child.Pid));
        Assert.False(Signals.Exists(child.Pid), "the process still exists after EndFrozen (the engine reaps its own children)");
    }

    [Fact]
    public void A_SIGSTOP_sent_just_before_a_frozen_process_is_ended_is_returned_once()
    {
        using var dir = new TempDirectory();
        using var child = Start(dir, "sleeper", "1000", "20");
        using var engine = new CheckpointEngine { BeforeEnd = pid => Signals.Kill(pid, Signals.SIGSTOP) };
        engine.Checkpoint(child.Pid, new NullSink(), new DumpOptions(AfterDump.KeepFrozen));

        Assert.Equal([Signals.SIGSTOP], engine.EndFrozen(child.Pid));
        Assert.False(Signals.Exists(child.Pid), "the process still exists after EndFrozen");
    }

    [Fact]
    public void A_signal_in_its_image_is_not_returned_and_a_threaded_process_ends_whole()
    {
        using var dir = new TempDirectory();
        using var child = Start(dir, "threaded", "1000", "20");
        UntilThreads(child.Pid, 3);
        var threads = ProcFsTasks(child.Pid);
        using var engine = new CheckpointEngine { BeforeEnd = pid => Signals.Kill(pid, Signals.SIGUSR1) };
        // Sent while frozen, before its queues are read: in the image.
        engine.Checkpoint(child.Pid, new NullSink(), new DumpOptions(AfterDump.KeepFrozen) { WhileFrozen = pid => Signals.Kill(pid, Signals.SIGUSR2) });

        Assert.Equal([Signals.SIGUSR1], engine.EndFrozen(child.Pid));
        Assert.All(threads, tid => Assert.False(Signals.Exists(tid), $"thread {tid} still exists after EndFrozen"));
    }

    [Fact]
    public void A_process_frozen_in_a_group_stop_is_ended_and_a_signal_sent_just_before_is_returned()
    {
        using var dir = new TempDirectory();
        using var child = Start(dir, "sleeper", "1000", "20");
        Signals.Kill(child.Pid, Signals.SIGSTOP);
        Poll.Until(() => File.ReadAllText($"/proc/{child.Pid}/stat").Split(' ')[2] == "T", EngineFixtures.Patience, "the process to stop");
        using var engine = new CheckpointEngine { BeforeEnd = pid => Signals.Kill(pid, Signals.SIGUSR2) };
        engine.Checkpoint(child.Pid, new NullSink(), new DumpOptions(AfterDump.KeepFrozen));

        Assert.Equal([Signals.SIGUSR2], engine.EndFrozen(child.Pid));
        Assert.False(Signals.Exists(child.Pid), "the process still exists after EndFrozen");
    }

    [Fact]
    public void A_process_not_frozen_after_an_image_is_ended_with_no_signals()
    {
        using var dir = new TempDirectory();
        using var child = Start(dir, "sleeper", "1000", "20");
        using var engine = new CheckpointEngine();
        engine.Checkpoint(child.Pid, new NullSink(), new DumpOptions(AfterDump.KeepFrozen));
        engine.Thaw(child.Pid);
        Signals.Kill(child.Pid, Signals.SIGSTOP);

        Assert.Empty(engine.EndFrozen(child.Pid));
        Assert.False(Signals.Exists(child.Pid), "the process still exists after EndFrozen");
    }

    private static List<int> ProcFsTasks(int pid) => [.. Directory.GetDirectories($"/proc/{pid}/task").Select(d => int.Parse(Path.GetFileName(d)))];
}
