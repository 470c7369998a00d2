using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Image;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Checkpoint.Tests.Engine;

/// <summary>An image sink that keeps nothing: these tests care about what happens to the original.</summary>
internal sealed class NullSink : IImageSink
{
    public void WriteMetadata(ProcessImage image) { }
    public void WritePages(ulong address, ReadOnlySpan<byte> data) { }
    public void Complete() { }
}

public sealed class DeputyTests
{
    private static (ChildProcess Child, string Output) Start(TempDirectory dir, string program, params string[] arguments)
    {
        var output = dir.File("out");
        var child = ChildProcess.StartToFile(TestPrograms.Locate(program), arguments, output);
        Poll.Until(() => Poll.CountLines(output) >= 2, EngineFixtures.Patience, "the program's first lines");
        return (child, output);
    }

    /// <summary>In its group-stop: a seized tracee reports that stop from a job-control trap, which the kernel's stack of
    /// the task shows as ptrace_do_notify called from get_signal (the deputy is never interrupted here). A syscall-stop
    /// shows ptrace_do_notify too, called from ptrace_notify: omd's calls injected into the deputy for its stop stop it so
    /// (for seconds under load 100), and a SIGCONT sent then came before the stop.</summary>
    private static bool InGroupStop(int pid)
    {
        var frames = File.ReadAllLines($"/proc/{pid}/stack");
        var notify = Array.FindIndex(frames, f => f.Contains("ptrace_do_notify", StringComparison.Ordinal));
        return notify >= 0 && notify + 1 < frames.Length && frames[notify + 1].Contains("get_signal", StringComparison.Ordinal);
    }

    internal static long Rss(int pid) =>
        long.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;

    [Fact]
    public void A_deputy_gives_back_its_memory_keeps_its_pid_and_ends_with_the_exit_code_it_is_given()
    {
        using var dir = new TempDirectory();
        var (child, _) = Start(dir, "memticker", "256", "1000", "20");
        using var engine = new CheckpointEngine();
        Assert.True(Rss(child.Pid) > 250L << 20);
        engine.Checkpoint(child.Pid, new NullSink(), new DumpOptions(AfterDump.KeepFrozen));
        engine.MakeDeputy(child.Pid);
        Assert.InRange(Rss(child.Pid), 0, 2L << 20);
        engine.EndDeputy(child.Pid, new ExitStatus(3, 0));
        Assert.Equal(new ChildExit(3, 0), child.WaitForExit(EngineFixtures.Patience));
    }

    [Theory]
    [InlineData(15)]
    [InlineData(6)]
    [InlineData(9)]
    public void A_deputy_ended_with_a_signal_dies_of_that_signal_even_if_the_program_handles_it(int signal)
    {
        using var dir = new TempDirectory();
        var (child, _) = Start(dir, "signals", "400", "25");
        using var engine = new CheckpointEngine();
        engine.Checkpoint(child.Pid, new NullSink(), new DumpOptions(AfterDump.KeepFrozen));
        engine.MakeDeputy(child.Pid);
        engine.EndDeputy(child.Pid, new ExitStatus(0, signal));
        Assert.Equal(new ChildExit(0, signal), child.WaitForExit(EngineFixtures.Patience));
    }

    [Fact]
    public async Task Signals_sent_to_a_deputy_are_reported_and_kept_from_it_and_sigkill_is_reported_as_its_death()
    {
        using var dir = new TempDirectory();
        var (child, _) = Start(dir, "sleeper", "1000", "20");
        using var engine = new CheckpointEngine();
        var signals = new List<int>();
        var died = new TaskCompletionSource<ExitStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
        engine.DeputySignal += (pid, signal) => { lock (signals) signals.Add(signal.Number); };
        engine.DeputyDied += (pid, status) => died.TrySetResult(status);
        engine.Checkpoint(child.Pid, new NullSink(), new DumpOptions(AfterDump.KeepFrozen));
        engine.MakeDeputy(child.Pid);

        Signals.Kill(child.Pid, Signals.SIGTERM);
        Poll.Until(() => { lock (signals) return signals.Contains(Signals.SIGTERM); }, EngineFixtures.Patience, "SIGTERM to be reported");
        Signals.Kill(child.Pid, Signals.SIGUSR1);
        Poll.Until(() => { lock (signals) return signals.Contains(Signals.SIGUSR1); }, EngineFixtures.Patience, "SIGUSR1 to be reported");
        Assert.False(child.HasExited, "a deputy must not act on the signals sent to it");

        Signals.Kill(child.Pid, Signals.SIGKILL);
        // Here the test is the deputy's parent as well as its tracer's process: the engine collects the death.
        Assert.Equal(new ExitStatus(0, Signals.SIGKILL), await died.Task.WaitAsync(EngineFixtures.Patience, TestContext.Current.CancellationToken));
        Assert.False(child.Exists, "the deputy is still there after its death was reported");
    }

    [Fact]
    public void A_stop_signal_is_reported_and_stops_the_deputy_and_sigcont_resumes_it()
    {
        using var dir = new TempDirectory();
        var (child, _) = Start(dir, "sleeper", "1000", "20");
        using var engine = new CheckpointEngine();
        var signals = new List<int>();
        engine.DeputySignal += (pid, signal) => { lock (signals) signals.Add(signal.Number); };
        engine.Checkpoint(child.Pid, new NullSink(), new DumpOptions(AfterDump.KeepFrozen));
        engine.MakeDeputy(child.Pid);

        Signals.Kill(child.Pid, Signals.SIGTSTP);
        Poll.Until(() => { lock (signals) return signals.Contains(Signals.SIGTSTP); }, EngineFixtures.Patience, "SIGTSTP to be reported");
        // In group-stop under ptrace the kernel shows a tracing stop; a SIGCONT must still get through.
        Poll.Until(() => File.ReadAllText($"/proc/{child.Pid}/stat").Split(' ')[2] == "t", EngineFixtures.Patience, "the deputy to stop");
        Signals.Kill(child.Pid, Signals.SIGCONT);
        Poll.Until(() => { lock (signals) return signals.Contains(Signals.SIGCONT); }, EngineFixtures.Patience, "SIGCONT to be reported");
        lock (signals) Assert.Contains(Signals.SIGTSTP, signals);
        engine.EndDeputy(child.Pid, new ExitStatus(0, 0));
        Assert.Equal(new ChildExit(0, 0), child.WaitForExit(EngineFixtures.Patience));
    }

    /// <summary>A program that catches a stop signal (an editor) or ignores it (a shell) is not stopped by it: neither is
    /// its deputy, and the handler, whose code and stack the deputy gave back, is never run there (it would die of
    /// SIGSEGV, which would be forwarded to the copy).</summary>
    [Theory]
    [InlineData("catch")]
    [InlineData("ignore")]
    public void A_stop_signal_the_program_catches_or_ignores_is_reported_as_sent_by_a_process_and_neither_stops_nor_breaks_the_deputy(string mode)
    {
        using var dir = new TempDirectory();
        var (child, _) = Start(dir, "stopcatcher", mode, "1000", "20");
        using var engine = new CheckpointEngine();
        var signals = new List<ArrivedSignal>();
        engine.DeputySignal += (pid, signal) => { lock (signals) signals.Add(signal); };
        engine.Checkpoint(child.Pid, new NullSink(), new DumpOptions(AfterDump.KeepFrozen));
        engine.MakeDeputy(child.Pid);

        Signals.Kill(child.Pid, Signals.SIGTSTP);
        Poll.Until(() => { lock (signals) return signals.Count > 0; }, EngineFixtures.Patience, "SIGTSTP to be reported");
        // Reported in order: once SIGUSR1 is, anything SIGTSTP led to in the deputy (a SIGSEGV) was reported before it.
        Signals.Kill(child.Pid, Signals.SIGUSR1);
        Poll.Until(() => { lock (signals) return signals.Any(s => s.Number == Signals.SIGUSR1); }, EngineFixtures.Patience, "SIGUSR1 to be reported");
        ArrivedSignal[] expected = [new(Signals.SIGTSTP, FromProcess: true), new(Signals.SIGUSR1, FromProcess: true)];
        lock (signals) Assert.Equal(expected, signals);
        // Back in its pause loop (a stopped deputy stays in a tracing stop, 't').
        Poll.Until(() => File.ReadAllText($"/proc/{child.Pid}/stat").Split(' ')[2] == "S", EngineFixtures.Patience, "the deputy to wait in its pause loop, not stopped");
        engine.EndDeputy(child.Pid, new ExitStatus(0, 0));
        Assert.Equal(new ChildExit(0, 0), child.WaitForExit(EngineFixtures.Patience));
    }

    /// <summary>An editor's ^Z handler sets the default action back and sends itself SIGTSTP (kill(0), which its copy has
    /// its deputy make at home; here a kill of its own PID): the program stops, and so does its deputy, though its actions are those it moved with.</summary>
    [Fact]
    public void A_stop_signal_the_deputy_sends_itself_for_its_copy_stops_it_even_where_the_program_caught_it_when_it_moved()
    {
        using var dir = new TempDirectory();
        var (child, _) = Start(dir, "stopcatcher", "catch", "1000", "20");
        using var engine = new CheckpointEngine();
        var signals = new List<ArrivedSignal>();
        engine.DeputySignal += (pid, signal) => { lock (signals) signals.Add(signal); };
        engine.Checkpoint(child.Pid, new NullSink(), new DumpOptions(AfterDump.KeepFrozen));
        engine.MakeDeputy(child.Pid);

        // kill of its own PID, not of its group (kill(0)): here the group is the test host's.
        const long Kill = 62;
        Assert.Equal(0, engine.CallInDeputy(child.Pid, Kill, [], _ => [child.Pid, Signals.SIGTSTP]));
        Poll.Until(() => { lock (signals) return signals.Contains(new ArrivedSignal(Signals.SIGTSTP, FromProcess: true)); }, EngineFixtures.Patience, "SIGTSTP to be reported");
        // Stopped as a shell sees it (the group-stop), not merely in a tracing stop ('t' already at the delivery of its
        // own SIGTSTP): a SIGCONT sent before the stop omd sends again for it would be flushed by that stop, as the
        // kernel flushes a pending SIGCONT at any stop signal, and no shell continues a job it has not seen stop.
        Poll.Until(() => InGroupStop(child.Pid), EngineFixtures.Patience, "the deputy to stop (group-stop)");
        Signals.Kill(child.Pid, Signals.SIGCONT);
        Poll.Until(() => File.ReadAllText($"/proc/{child.Pid}/stat").Split(' ')[2] == "S", EngineFixtures.Patience, "SIGCONT to resume the deputy");
        lock (signals) Assert.DoesNotContain(signals, s => s.Number == Signals.SIGSEGV);
        engine.EndDeputy(child.Pid, new ExitStatus(0, 0));
        Assert.Equal(new ChildExit(0, 0), child.WaitForExit(EngineFixtures.Patience));
    }

    /// <summary>A SIGCONT that comes after the deputy's own stop signal, before omd has made the stop (it first gives the
    /// deputy the default action), continues it, as it would the unmoved program: omd's stop must not discard it (a stop
    /// signal sent discards a SIGCONT pending). Sent from the report of the stop signal, on the tracer thread, so it is
    /// certainly in that window.</summary>
    [Fact]
    public void A_SIGCONT_that_comes_while_the_deputy_is_being_stopped_by_its_own_signal_continues_it()
    {
        using var dir = new TempDirectory();
        var (child, _) = Start(dir, "stopcatcher", "catch", "1000", "20");
        using var engine = new CheckpointEngine();
        var signals = new List<ArrivedSignal>();
        engine.DeputySignal += (pid, signal) =>
        {
            lock (signals) signals.Add(signal);
            if (signal.Number == Signals.SIGTSTP) Signals.Kill(pid, Signals.SIGCONT);
        };
        engine.Checkpoint(child.Pid, new NullSink(), new DumpOptions(AfterDump.KeepFrozen));
        engine.MakeDeputy(child.Pid);

        const long Kill = 62;
        Assert.Equal(0, engine.CallInDeputy(child.Pid, Kill, [], _ => [child.Pid, Signals.SIGTSTP]));
        Poll.Until(() => { lock (signals) return signals.Any(s => s.Number == Signals.SIGCONT); }, EngineFixtures.Patience, "the SIGCONT to be reported");
        Poll.Until(() => File.ReadAllText($"/proc/{child.Pid}/stat").Split(' ')[2] == "S", EngineFixtures.Patience, "the deputy to wait in its pause loop, not stopped");
        // Only the program's stop and the SIGCONT reach its copy (nothing omd sends the deputy for the stop).
        ArrivedSignal[] expected = [new(Signals.SIGTSTP, FromProcess: true), new(Signals.SIGCONT, FromProcess: true)];
        lock (signals) Assert.Equal(expected, signals);
        engine.EndDeputy(child.Pid, new ExitStatus(0, 0));
        Assert.Equal(new ChildExit(0, 0), child.WaitForExit(EngineFixtures.Patience));
    }

    [Fact]
    public void A_process_that_ran_elsewhere_is_restored_into_its_deputy_and_finishes_there_with_its_pid_and_parent()
    {
        const int Lines = 150;
        using var dir = new TempDirectory();
        // Held after 2 lines and after 12 (counter's HOLDs), so that each checkpoint finds it running however slow
        // the machine: it prints lines 3 to 12 away, the rest home again.
        var (child, output) = Start(dir, "counter", $"{Lines}", "2", "12");
        using var home = new CheckpointEngine();
        using var away = new CheckpointEngine();

        var outbound = new InMemoryImage();
        home.Checkpoint(child.Pid, outbound, new DumpOptions(AfterDump.KeepFrozen));
        var copy = away.Restore(outbound, new RestoreOptions(TryOriginalPid: false) { KeepFrozen = true });
        home.MakeDeputy(child.Pid);
        away.Thaw(copy.Pid);
        var printedAway = Poll.CountLines(output);
        Signals.Kill(copy.Pid, Signals.SIGUSR1);
        Poll.Until(() => Poll.CountLines(output) >= printedAway + 10, EngineFixtures.Patience, "the copy to print on");

        var inbound = new InMemoryImage();
        away.Checkpoint(copy.Pid, inbound, new DumpOptions(AfterDump.KeepFrozen));
        away.KillFrozen(copy.Pid);
        var back = home.RestoreInto(child.Pid, inbound, new RestoreOptions());
        Assert.Equal(child.Pid, back.Pid);
        Signals.Kill(back.Pid, Signals.SIGUSR1);

        Assert.Equal(new ChildExit(0, 0), child.WaitForExit(EngineFixtures.Patience));
        var expected = new List<string>();
        var sum = 1469598103934665603UL;
        for (var i = 0; i < Lines; i++)
        {
            sum = (sum ^ (ulong)i) * 1099511628211UL;
            expected.Add($"{i} {sum:x16}");
        }
        Assert.Equal(expected, File.ReadAllLines(output));
    }

    [Fact]
    public void A_restore_into_a_deputy_that_fails_leaves_it_a_deputy_that_can_still_be_ended()
    {
        using var dir = new TempDirectory();
        var (child, _) = Start(dir, "sleeper", "1000", "20");
        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.KeepFrozen));
        engine.MakeDeputy(child.Pid);
        // The image of another program: its heap starts elsewhere, which the restore finds only after it has
        // set up its trampoline in the deputy, so the deputy must be put back as it was.
        using var otherDir = new TempDirectory();
        var (other, _) = Start(otherDir, "memticker", "4", "1000", "20");
        var broken = new InMemoryImage();
        engine.Checkpoint(other.Pid, broken, new DumpOptions(AfterDump.Resume));
        Assert.Throws<OpenMosix.Checkpoint.Restore.RestoreException>(() => engine.RestoreInto(child.Pid, broken, new RestoreOptions()));

        Assert.False(child.HasExited);
        engine.EndDeputy(child.Pid, new ExitStatus(7, 0));
        Assert.Equal(new ChildExit(7, 0), child.WaitForExit(EngineFixtures.Patience));
    }
}
