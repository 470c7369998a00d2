using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Image;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Linux;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.EngineFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

public sealed class RestoreTests
{
    /// <summary>A program is checkpointed after its first lines, killed and restored; it must then print what an
    /// undisturbed run of it prints. With <paramref name="holds"/>, the program takes <paramref name="afterLines"/> as
    /// a last argument and waits there for SIGUSR1 (counter's HOLD), so that the checkpoint finds it running however
    /// slow the machine; the restored process is let go. Without, it runs on (eng_heap's rounds take CPU time, and a
    /// slow machine slows it as much as the test).</summary>
    private static void KillAfterLinesThenRestore(string program, string[] arguments, int afterLines, bool holds)
    {
        using var dir = new TempDirectory();
        using var reference = ChildProcess.StartToFile(program, arguments, dir.File("expected"));
        using var child = ChildProcess.StartToFile(program, holds ? [.. arguments, $"{afterLines}"] : arguments, dir.File("out"));
        Poll.UntilLines(dir.File("out"), afterLines, Patience);

        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        var dump = engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Kill));
        Assert.Equal(9, child.WaitForExit(Patience).Signal);
        Assert.Equal(image.PageBytes, dump.PageBytes);

        var restored = engine.Restore(image, new RestoreOptions());
        Assert.Equal(child.Pid, restored.OriginalPid);
        if (holds) Signals.Kill(restored.Pid, Signals.SIGUSR1);
        Assert.Equal(new ExitStatus(0, 0), engine.WaitForExitWithin(restored, Patience));
        Assert.Equal(0, reference.WaitForExit(Patience).Code);
        Assert.Equal(File.ReadAllText(dir.File("expected")), File.ReadAllText(dir.File("out")));
    }

    [Fact]
    public void Counter_restored_after_kill_finishes_with_identical_output() =>
        KillAfterLinesThenRestore(TestPrograms.Locate("counter"), ["60"], 10, holds: true);

    [Fact]
    public void Heap_that_grows_and_trims_keeps_working_after_restore() =>
        KillAfterLinesThenRestore(TestPrograms.Locate("eng_heap"), ["60"], 25, holds: false);

    [Fact]
    public void Python_interpreter_restored_mid_run_prints_the_same_lines()
    {
        // Given a line count, it waits there for SIGUSR1, as counter does.
        const string script = """
            import hashlib, signal, sys, time
            hold = int(sys.argv[1]) if len(sys.argv) > 1 else -1
            if hold >= 0:
                signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
            h = hashlib.sha256()
            for i in range(50):
                h.update(str(i).encode())
                print(i, h.hexdigest()[:16], flush=True)
                if i + 1 == hold:
                    signal.sigwait({signal.SIGUSR1})
                time.sleep(0.02)
            """;
        KillAfterLinesThenRestore("/usr/bin/python3", ["-c", script], 12, holds: true);
    }

    [Fact]
    public void Restored_process_has_the_soft_and_hard_limits_it_had_lowered()
    {
        using var dir = new TempDirectory();
        // Lowered below what this test runner (and so the restore's stub) has: the restore must lower the stub's too.
        var script = $"ulimit -Sn 150 && ulimit -Hn 300 && ulimit -Sl 64 && ulimit -Hl 128 && exec {TestPrograms.Locate("counter")} 1000";
        using var child = ChildProcess.StartToFile("/bin/sh", ["-c", script], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 2, Patience);
        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Kill));
        child.WaitForExit(Patience);

        var restored = engine.Restore(image, new RestoreOptions { TryOriginalPid = false, KeepFrozen = true });
        try
        {
            var files = ResourceLimits.Get(restored.Pid, ResourceLimits.RLIMIT_NOFILE);
            var locked = ResourceLimits.Get(restored.Pid, 8);
            Assert.Equal((150UL, 300UL), (files.Current, files.Maximum));
            Assert.Equal((64UL * 1024, 128UL * 1024), (locked.Current, locked.Maximum));
            Assert.Equal(ResourceLimits.Get(0, 3).Maximum, ResourceLimits.Get(restored.Pid, 3).Maximum);
        }
        finally
        {
            engine.KillFrozen(restored.Pid);
        }
    }

    [Fact]
    public void Restored_process_gets_its_original_pid_when_it_is_free() => FreeIds.HoldInOneOf(5, () =>
    {
        using var dir = new TempDirectory();
        using var child = ChildProcess.StartToFile(TestPrograms.Locate("counter"), ["20", "3"], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 3, Patience);
        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Kill));
        child.WaitForExit(Patience);

        var restored = engine.Restore(image, new RestoreOptions());
        Signals.Kill(restored.Pid, Signals.SIGUSR1);
        Assert.Equal(new ExitStatus(0, 0), engine.WaitForExitWithin(restored, Patience));
        Assert.Equal(20, Poll.CountLines(dir.File("out")));
        return restored.SamePidAsOriginal ? null : $"restored as {restored.Pid}, original {restored.OriginalPid}";
    });

    [Fact]
    public void Process_checkpointed_inside_nanosleep_sleeps_again_and_wakes_normally()
    {
        using var dir = new TempDirectory();
        using var child = ChildProcess.StartToFile(TestPrograms.Locate("eng_sleeper"), ["400"], dir.File("out"));
        UntilBlockedIn(child.Pid, 35, 230);
        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Kill));
        child.WaitForExit(Patience);

        var restored = engine.Restore(image, new RestoreOptions { TryOriginalPid = false });
        Assert.Equal(new ExitStatus(0, 0), engine.WaitForExitWithin(restored, Patience));
        Assert.Equal("sleeping 400 ms\nwoke up: 0\n", File.ReadAllText(dir.File("out")));
    }

    [Fact]
    public void Process_blocked_reading_a_pipe_continues_on_the_pipe_it_is_given()
    {
        using var dir = new TempDirectory();
        var program = TestPrograms.Locate("eng_piperead");
        var input = "alpha\nbeta\ngamma\ndelta\nepsilon\n";
        var (refRead, refWrite) = Pipe();
        using (refRead)
        using (var reference = ChildProcess.StartToFile(program, [], dir.File("expected"), refRead))
        {
            WriteAll(refWrite, input);
            refWrite.Dispose();
            Assert.Equal(0, reference.WaitForExit(Patience).Code);
        }

        var (read, write) = Pipe();
        using var child = ChildProcess.StartToFile(program, [], dir.File("out"), read);
        WriteAll(write, "alpha\nbeta\n");
        Poll.UntilLines(dir.File("out"), 2, Patience);
        UntilBlockedIn(child.Pid, 0);
        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Kill));
        child.WaitForExit(Patience);

        var restored = engine.Restore(image, new RestoreOptions(new Dictionary<int, int> { [0] = (int)read.DangerousGetHandle() }));
        read.Dispose();
        WriteAll(write, "gamma\ndelta\nepsilon\n");
        write.Dispose();
        Assert.Equal(new ExitStatus(0, 0), engine.WaitForExitWithin(restored, Patience));
        Assert.Equal(File.ReadAllText(dir.File("expected")), File.ReadAllText(dir.File("out")));
    }

    [Fact]
    public void Resumed_original_keeps_running_identically()
    {
        using var dir = new TempDirectory();
        var counter = TestPrograms.Locate("counter");
        using var reference = ChildProcess.StartToFile(counter, ["40"], dir.File("expected"));
        using var child = ChildProcess.StartToFile(counter, ["40", "8"], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 8, Patience);
        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        var dump = engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Resume));
        Signals.Kill(child.Pid, Signals.SIGUSR1);
        Assert.True(image.Completed);
        Assert.True(dump.RegionCount > 5);
        Assert.Equal(0, child.WaitForExit(Patience).Code);
        Assert.Equal(0, reference.WaitForExit(Patience).Code);
        Assert.Equal(File.ReadAllText(dir.File("expected")), File.ReadAllText(dir.File("out")));
    }

    [Fact]
    public void Process_kept_frozen_stays_stopped_and_runs_on_identically_when_the_engine_lets_go()
    {
        using var dir = new TempDirectory();
        var counter = TestPrograms.Locate("counter");
        using var reference = ChildProcess.StartToFile(counter, ["30"], dir.File("expected"));
        using var child = ChildProcess.StartToFile(counter, ["30", "5"], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 5, Patience);
        using (var engine = new CheckpointEngine())
        {
            engine.Checkpoint(child.Pid, new InMemoryImage(), new DumpOptions(AfterDump.KeepFrozen));
            // Let go while frozen: it would print on, were it not frozen.
            Signals.Kill(child.Pid, Signals.SIGUSR1);
            var lines = Poll.CountLines(dir.File("out"));
            Assert.Equal('t', OpenMosix.Linux.Proc.ProcFs.ReadStat(child.Pid).State);
            Assert.Equal(lines, Poll.CountLines(dir.File("out")));
        }
        Assert.Equal(0, child.WaitForExit(Patience).Code);
        Assert.Equal(0, reference.WaitForExit(Patience).Code);
        Assert.Equal(File.ReadAllText(dir.File("expected")), File.ReadAllText(dir.File("out")));
    }

    [Fact]
    public void Process_that_is_not_our_child_is_checkpointed_killed_and_restored()
    {
        using var dir = new TempDirectory();
        var counter = TestPrograms.Locate("counter");
        using var reference = ChildProcess.StartToFile(counter, ["40"], dir.File("expected"));
        using var shell = ChildProcess.StartToFile("/bin/sh", ["-c", $"\"{counter}\" 40 5 & echo $! > \"{dir.File("pid")}\"; wait"], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 5, Patience);
        var pid = int.Parse(File.ReadAllText(dir.File("pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture);

        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        using var counterHandle = PidFd.Open(pid);
        engine.Checkpoint(pid, image, new DumpOptions(AfterDump.Kill));
        shell.WaitForExit(Patience); // its `wait` reaped the killed counter
        Assert.False(counterHandle.Exists);

        var restored = engine.Restore(image, new RestoreOptions());
        Signals.Kill(restored.Pid, Signals.SIGUSR1);
        Assert.Equal(new ExitStatus(0, 0), engine.WaitForExitWithin(restored, Patience));
        Assert.Equal(0, reference.WaitForExit(Patience).Code);
        Assert.Equal(File.ReadAllText(dir.File("expected")), File.ReadAllText(dir.File("out")));
    }

    [Fact]
    public void Writer_blocked_on_a_full_pipe_continues_into_the_pipe_it_is_given_without_losing_bytes()
    {
        using var dir = new TempDirectory();
        var program = TestPrograms.Locate("pipewriter");
        using (var reference = ChildProcess.StartToFile(program, ["2"], dir.File("expected")))
            Assert.Equal(0, reference.WaitForExit(Patience).Code);

        var (read, write) = Pipe();
        using var child = ChildProcess.Start(program, ["2"], stdout: write);
        UntilBlockedIn(child.Pid, 1);
        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Kill));
        child.WaitForExit(Patience);

        var restored = engine.Restore(image, new RestoreOptions(new Dictionary<int, int> { [1] = (int)write.DangerousGetHandle() }));
        write.Dispose();
        using var received = new MemoryStream();
        using (var stream = new FileStream(read, FileAccess.Read)) stream.CopyTo(received);
        Assert.Equal(new ExitStatus(0, 0), engine.WaitForExitWithin(restored, Patience));
        Assert.Equal(File.ReadAllBytes(dir.File("expected")), received.ToArray());
    }

    [Fact]
    public void Process_restored_under_a_new_pid_finds_itself_through_glibcs_cached_thread_id()
    {
        using var dir = new TempDirectory();
        var (read, write) = Pipe();
        using var child = ChildProcess.StartToFile(TestPrograms.Locate("eng_tid"), [], dir.File("out"), read);
        Poll.UntilLines(dir.File("out"), 1, Patience);
        UntilBlockedIn(child.Pid, 0);
        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Kill));
        child.WaitForExit(Patience);
        Assert.NotEqual(0UL, image.Metadata.Attributes.CachedTidAddress);

        var restored = engine.Restore(image, new RestoreOptions(new Dictionary<int, int> { [0] = (int)read.DangerousGetHandle() }, TryOriginalPid: false));
        read.Dispose();
        Assert.NotEqual(restored.OriginalPid, restored.Pid);
        WriteAll(write, "go\n");
        write.Dispose();
        Assert.Equal(new ExitStatus(0, 0), engine.WaitForExitWithin(restored, Patience));
        Assert.Equal("ready\nsetschedparam: 0\ncached tid is pid: 1\n", File.ReadAllText(dir.File("out")));
    }

    [Fact]
    public void Self_pipe_is_rebuilt_as_a_working_pipe_with_its_flags()
    {
        using var dir = new TempDirectory();
        var (read, write) = Pipe();
        using var child = ChildProcess.StartToFile(TestPrograms.Locate("eng_selfpipe"), [], dir.File("out"), read);
        Poll.UntilLines(dir.File("out"), 1, Patience);
        UntilBlockedIn(child.Pid, 0);
        using var engine = new CheckpointEngine();
        Assert.True(engine.AnalyzeCantMove(child.Pid).CanMove);
        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Kill));
        child.WaitForExit(Patience);
        Assert.Equal(2, image.Metadata.Files.Count(f => f.Kind == FileKind.InternalPipe));

        var restored = engine.Restore(image, new RestoreOptions(new Dictionary<int, int> { [0] = (int)read.DangerousGetHandle() }));
        read.Dispose();
        WriteAll(write, "go\n");
        write.Dispose();
        Assert.Equal(new ExitStatus(0, 0), engine.WaitForExitWithin(restored, Patience));
        Assert.Equal("ready\nselfpipe ok nonblock=1 cloexec=1\n", File.ReadAllText(dir.File("out")));
    }
}
