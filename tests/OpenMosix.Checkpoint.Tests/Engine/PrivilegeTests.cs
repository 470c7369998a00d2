using OpenMosix.Checkpoint.CantMove;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Linux;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.EngineFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

/// <summary>A restored process has every limit it had: capabilities, no_new_privs, dumpable, seccomp filters.</summary>
public sealed class PrivilegeTests
{
    [Fact]
    public void A_root_process_with_no_bounding_set_and_no_new_privs_keeps_both()
    {
        using var dir = new TempDirectory();
        var (engine, restored) = CheckpointAndRestore(dir, "nobounding,nnp");
        using (engine)
        {
            var status = TaskPrivileges.Read(restored.Pid, restored.Pid);
            Assert.Equal(0UL, status.Bounding);
            Assert.True(status.NoNewPrivs);
            EndRestored(engine, restored);
        }
    }

    [Fact]
    public void Capability_sets_of_each_thread_that_dropped_some_come_back_equal()
    {
        using var dir = new TempDirectory();
        var program = TestPrograms.Locate("restricted");
        using var child = ChildProcess.StartToFile(program, ["dropcaps,thread", "400", "50"], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 2, Patience);
        Poll.Until(() => ProcFs.ReadTasks(child.Pid).Count == 2, Patience, "the second thread");
        var before = Threads(child.Pid);
        Assert.NotEqual(before[0].Effective, before[1].Effective);

        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Kill));
        child.WaitForExit(Patience);
        Assert.Equal(0x41, image.Metadata.MainThread.Privileges.Securebits);
        var restored = engine.Restore(image, new RestoreOptions());

        Assert.Equal(before, Threads(restored.Pid));
        EndRestored(engine, restored);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void A_non_dumpable_process_stays_non_dumpable()
    {
        using var dir = new TempDirectory();
        File.SetUnixFileMode(dir.Path, (UnixFileMode)0x1ff);
        File.WriteAllText(dir.File("out"), "");
        File.SetUnixFileMode(dir.File("out"), (UnixFileMode)0x1b6);
        using var output = File.OpenHandle(dir.File("out"), FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
        using var child = ChildProcess.Start("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", TestPrograms.Locate("restricted"), "nodump", "400", "50"],
            stdout: output, workingDirectory: dir.Path);
        Poll.UntilLines(dir.File("out"), 2, Patience);
        // The kernel shows a non-dumpable process's /proc files as root's, not its owner's.
        Assert.Equal(0u, FileStatus.Of($"/proc/{child.Pid}/status").Owner);

        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Kill));
        child.WaitForExit(Patience);
        Assert.Equal(0, image.Metadata.Attributes.Dumpable);
        var restored = engine.Restore(image, new RestoreOptions());

        Assert.Equal(65534u, ProcFs.ReadStatus(restored.Pid).Uid[0]);
        Assert.Equal(0u, FileStatus.Of($"/proc/{restored.Pid}/status").Owner);
        EndRestored(engine, restored);
    }

    [Fact]
    public void A_process_under_seccomp_filters_keeps_them_and_they_still_deny_what_they_denied()
    {
        using var dir = new TempDirectory();
        var (engine, restored) = CheckpointAndRestore(dir, "seccomp", rounds: 40);
        using (engine)
        {
            var status = TaskPrivileges.Read(restored.Pid, restored.Pid);
            Assert.Equal((2, 2), (status.SeccompMode, status.SeccompFilters));
            Assert.Equal(new ExitStatus(0, 0), engine.WaitForExitWithin(restored, Patience));
            var rounds = File.ReadLines(dir.File("out")).Where(l => l.StartsWith("round ", StringComparison.Ordinal)).ToList();
            Assert.Equal(40, rounds.Count);
            Assert.All(rounds, line => Assert.EndsWith("getppid Operation not permitted getpgid Permission denied", line, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void A_process_in_its_own_user_namespace_is_refused_with_the_reason_and_runs_on()
    {
        using var child = ChildProcess.Start("/usr/bin/unshare", ["--user", TestPrograms.Locate("sleeper"), "300", "50"]);
        Poll.Until(() => Namespaces.OtherThanOurs(child.Pid, "user") is not null, Patience, "the process in its own user namespace");
        using var engine = new CheckpointEngine();

        var refused = Assert.Throws<CantMoveException>(() => engine.Checkpoint(child.Pid, new InMemoryImage(), new DumpOptions(AfterDump.Kill)));

        Assert.Contains(refused.Report.Reasons, r => r.StartsWith("runs in another user namespace", StringComparison.Ordinal));
        Assert.True(Signals.Exists(child.Pid));
        Assert.NotEqual('T', ProcFs.ReadStat(child.Pid).State);
        Signals.Kill(child.Pid, Signals.SIGKILL);
        child.WaitForExit(Patience);
    }

    /// <summary>Runs restricted with <paramref name="flags"/>, checkpoints it (killing it) and restores it.</summary>
    private static (CheckpointEngine, RestoredProcess) CheckpointAndRestore(TempDirectory dir, string flags, int rounds = 400)
    {
        using var child = ChildProcess.StartToFile(TestPrograms.Locate("restricted"), [flags, $"{rounds}", "50"], dir.File("out"));
        Poll.UntilLines(dir.File("out"), 2, Patience);
        var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Kill));
        child.WaitForExit(Patience);
        return (engine, engine.Restore(image, new RestoreOptions()));
    }

    private static List<TaskPrivileges> Threads(int pid) => [.. ProcFs.ReadTasks(pid).OrderBy(tid => tid != pid).Select(tid => TaskPrivileges.Read(pid, tid))];

    private static void EndRestored(CheckpointEngine engine, RestoredProcess restored)
    {
        Signals.Kill(restored.Pid, Signals.SIGKILL);
        engine.WaitForExit(restored);
    }
}
