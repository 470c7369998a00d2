using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.EngineFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

public sealed class StateTests
{
    [Fact]
    public void Signal_handlers_blocked_mask_pending_signals_and_timers_survive_restore()
    {
        using var dir = new TempDirectory();
        var program = TestPrograms.Locate("eng_signals");
        var (refRead, refWrite) = Pipe();
        using (refRead)
        using (var reference = ChildProcess.StartToFile(program, [], dir.File("expected"), refRead))
        {
            WriteAll(refWrite, "go\n");
            refWrite.Dispose();
            Assert.Equal(0, reference.WaitForExit(Patience).Code);
        }

        var (read, write) = Pipe();
        using var child = ChildProcess.StartToFile(program, [], dir.File("out"), read);
        Poll.UntilLines(dir.File("out"), 1, Patience);
        UntilBlockedIn(child.Pid, 0);
        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Kill));
        child.WaitForExit(Patience);
        Assert.Equal(3, image.Metadata.Signals.Pending.Count);
        Assert.True(image.Metadata.Timers.Real.IsArmed);

        var restored = engine.Restore(image, new RestoreOptions(new Dictionary<int, int> { [0] = (int)read.DangerousGetHandle() }));
        read.Dispose();
        WriteAll(write, "go\n");
        write.Dispose();
        Assert.Equal(new ExitStatus(0, 0), engine.WaitForExitWithin(restored, Patience));
        var expected = File.ReadAllText(dir.File("expected"));
        Assert.Contains("usr2 blocked 1, usr2 pending 1, rt pending 1, timer armed 1", expected, StringComparison.Ordinal);
        Assert.Equal(expected, File.ReadAllText(dir.File("out")));
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void Process_of_another_user_is_restored_with_that_users_identity_and_working_directory()
    {
        using var dir = new TempDirectory();
        File.SetUnixFileMode(dir.Path, (UnixFileMode)0x1ff);
        File.WriteAllText(dir.File("out"), "");
        File.SetUnixFileMode(dir.File("out"), (UnixFileMode)0x1b6);
        var counter = TestPrograms.Locate("counter");
        using var output = File.OpenHandle(dir.File("out"), FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
        using var child = ChildProcess.Start("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", counter, "40", "5"],
            stdout: output, workingDirectory: dir.Path);
        Poll.UntilLines(dir.File("out"), 5, Patience);

        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Kill));
        child.WaitForExit(Patience);
        Assert.Equal(65534u, image.Metadata.Attributes.Credentials.EffectiveUid);

        var restored = engine.Restore(image, new RestoreOptions());
        var status = OpenMosix.Linux.Proc.ProcFs.ReadStatus(restored.Pid);
        Assert.Equal([65534u, 65534, 65534, 65534], status.Uid);
        Assert.Equal([65534u, 65534, 65534, 65534], status.Gid);
        Assert.Empty(status.Groups);
        Assert.Equal(dir.Path, OpenMosix.Linux.Proc.ProcFs.ReadWorkingDirectory(restored.Pid));
        OpenMosix.Linux.Signals.Kill(restored.Pid, OpenMosix.Linux.Signals.SIGUSR1);
        Assert.Equal(new ExitStatus(0, 0), engine.WaitForExitWithin(restored, Patience));
        Assert.Equal(40, Poll.CountLines(dir.File("out")));
    }

    [Theory]
    [InlineData(7)]
    [InlineData(-5)]
    public void A_process_keeps_its_nice_value_whatever_the_restorer_runs_at(int nice)
    {
        using var dir = new TempDirectory();
        using var child = ChildProcess.StartToFile("/usr/bin/nice", ["-n", $"{nice}", TestPrograms.Locate("counter"), "30", "3"], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 3, Patience);
        Assert.Equal(nice, OpenMosix.Linux.Proc.ProcFs.ReadStat(child.Pid).Nice);

        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Kill));
        child.WaitForExit(Patience);
        var restored = engine.Restore(image, new RestoreOptions(TryOriginalPid: false));
        Assert.Equal(nice, OpenMosix.Linux.Proc.ProcFs.ReadStat(restored.Pid).Nice);
        OpenMosix.Linux.Signals.Kill(restored.Pid, OpenMosix.Linux.Signals.SIGUSR1);
        Assert.Equal(new ExitStatus(0, 0), engine.WaitForExitWithin(restored, Patience));
    }

    [Theory]
    [InlineData(500)]
    [InlineData(1000)]
    public void A_process_keeps_the_oom_score_adjustment_its_owner_gave_it(int adjust)
    {
        using var dir = new TempDirectory();
        using var child = ChildProcess.StartToFile("/usr/bin/choom", ["-n", $"{adjust}", "--", TestPrograms.Locate("counter"), "30", "3"], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 3, Patience);
        Assert.Equal(adjust, OpenMosix.Linux.Proc.ProcFs.ReadOomScoreAdjust(child.Pid));
        Assert.NotEqual(adjust, OpenMosix.Linux.Proc.ProcFs.ReadOomScoreAdjust(Environment.ProcessId));

        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Kill));
        child.WaitForExit(Patience);
        Assert.Equal(adjust, image.Metadata.Attributes.OomScoreAdjust);
        var restored = engine.Restore(image, new RestoreOptions(TryOriginalPid: false));
        Assert.Equal(adjust, OpenMosix.Linux.Proc.ProcFs.ReadOomScoreAdjust(restored.Pid));
        OpenMosix.Linux.Signals.Kill(restored.Pid, OpenMosix.Linux.Signals.SIGUSR1);
        Assert.Equal(new ExitStatus(0, 0), engine.WaitForExitWithin(restored, Patience));
    }

    [Theory]
    [InlineData(AfterDump.Resume)]
    [InlineData(AfterDump.Kill)]
    public void Process_frozen_inside_sigsuspend_keeps_its_real_mask_after_the_signal(AfterDump after)
    {
        using var dir = new TempDirectory();
        using var child = ChildProcess.StartToFile(TestPrograms.Locate("eng_sigsuspend"), [], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 1, Patience);
        UntilBlockedIn(child.Pid, 130);
        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(after));
        Assert.Equal(1UL << (OpenMosix.Linux.Signals.SIGUSR1 - 1), image.Metadata.Signals.BlockedMask);

        int pid;
        Func<ExitStatus> wait;
        if (after == AfterDump.Kill)
        {
            child.WaitForExit(Patience);
            var restored = engine.Restore(image, new RestoreOptions { TryOriginalPid = false });
            pid = restored.Pid;
            wait = () => engine.WaitForExitWithin(restored, Patience);
        }
        else
        {
            pid = child.Pid;
            wait = () => child.WaitForExit(Patience) is var e ? new ExitStatus(e.Code, e.Signal) : default;
        }
        UntilBlockedIn(pid, 130);
        OpenMosix.Linux.Signals.Kill(pid, OpenMosix.Linux.Signals.SIGUSR1);
        Assert.Equal(new ExitStatus(0, 0), wait());
        Assert.Equal("waiting\nhandled\nblocked after: 1\n", File.ReadAllText(dir.File("out")));
    }
}
