using OpenMosix.Checkpoint.CantMove;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Linux;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.EngineFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

public sealed class CantMoveTests
{
    [Theory]
    [InlineData("mainexit", "its main thread has exited while other threads run on")]
    [InlineData("tcp", "fd 3 is a TCP socket (socket:[")]
    [InlineData("shared", "has shared memory at ")]
    [InlineData("pipe", "fd 3 is a pipe (pipe:[")]
    [InlineData("deleted", "fd 3 is a deleted file (/tmp/eng_unmovable.")]
    [InlineData("inotify", "fd 3 is an inotify instance watching 2 paths (anon_inode:inotify; watches are not re-added on restore)")]
    [InlineData("io_uring", "fd 3 is an io_uring (anon_inode:[io_uring])")]
    [InlineData("epollclosed", "fd 3 is an epoll instance watching fd 5, which is closed (the watched file stays registered through a duplicate)")]
    [InlineData("memfdmap", "has a shared mapping of /memfd:gone (deleted) at ")]
    [InlineData("timer", "has 1 POSIX timer (timer_create)")]
    [InlineData("threadfiles", "has a descriptor table of its own (unshare CLONE_FILES)")]
    [InlineData("threadfs", "has a working directory, root and umask of its own (unshare CLONE_FS)")]
    [InlineData("threadnet", "runs in another net namespace (net:[")]
    [InlineData("threadtracer", " traces process ")]
    public void Unmovable_process_is_refused_with_a_precise_reason_and_left_unharmed(string what, string reason)
    {
        using var dir = new TempDirectory();
        var (read, write) = Pipe();
        using var child = ChildProcess.StartToFile(TestPrograms.Locate("eng_unmovable"), [what], dir.File("out"), read);
        read.Dispose();
        Poll.UntilLines(dir.File("out"), 1, Patience);
        // mainexit prints before its main thread ends: the reason exists once that thread is a zombie.
        if (what == "mainexit") Poll.Until(() => ProcFs.ReadStat(child.Pid).State == 'Z', Patience, "the main thread to end");

        using var engine = new CheckpointEngine();
        var report = engine.AnalyzeCantMove(child.Pid);
        Assert.False(report.CanMove);
        Assert.Contains(report.Reasons, r => r.Contains(reason, StringComparison.Ordinal));
        var refused = Assert.Throws<CantMoveException>(() => engine.Checkpoint(child.Pid, new InMemoryImage(), new DumpOptions(AfterDump.Kill)));
        Assert.Contains(reason, refused.Message, StringComparison.Ordinal);

        var status = ProcFs.ReadStatus(child.Pid);
        Assert.Equal(0, status.TracerPid);
        Assert.NotEqual('t', status.State);
        write.Dispose();
        Assert.Equal(new ChildExit(0, 0), child.WaitForExit(Patience));
        Assert.Equal("ready\n", File.ReadAllText(dir.File("out")));
    }

    [Fact]
    public void Single_threaded_program_with_plain_files_can_move()
    {
        using var dir = new TempDirectory();
        using var child = ChildProcess.StartToFile(TestPrograms.Locate("counter"), ["100", "1"], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 1, Patience);
        using var engine = new CheckpointEngine();
        var report = engine.AnalyzeCantMove(child.Pid);
        Assert.True(report.CanMove, string.Join("; ", report.Reasons));
    }

    [Fact]
    public void Missing_process_gives_a_one_line_no_such_process_error()
    {
        using var engine = new CheckpointEngine();
        var missing = FindUnusedPid();
        var e = Assert.Throws<ProcessAccessException>(() => engine.Checkpoint(missing, new InMemoryImage(), new DumpOptions()));
        Assert.Equal($"process {missing}: no such process", e.Message);
        Assert.Throws<ProcessAccessException>(() => engine.AnalyzeCantMove(missing));
        var invalid = Assert.Throws<ProcessAccessException>(() => engine.AnalyzeCantMove(0));
        Assert.DoesNotContain('\n', invalid.Message);
    }

    [Fact]
    public void Process_cannot_checkpoint_itself()
    {
        using var engine = new CheckpointEngine();
        var report = engine.AnalyzeCantMove(Environment.ProcessId);
        Assert.Contains(report.Reasons, r => r.Contains("itself", StringComparison.Ordinal));
    }

    private static int FindUnusedPid()
    {
        var max = int.Parse(File.ReadAllText("/proc/sys/kernel/pid_max").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        for (var pid = max - 1; pid > 1; pid--)
            if (!Signals.Exists(pid)) return pid;
        throw new InvalidOperationException("no free pid");
    }
}
