using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Format;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.EngineFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

/// <summary>
/// A process that executes a new program while its pre-copy runs (`om run` registers a process just before its exec;
/// a new machine's cold caches made that exec late enough for a migration to begin first). The kernel then answers
/// PAGEMAP_SCAN on the old handle with ESRCH: the address space it was opened on is gone. The pre-copy must say so
/// plainly, as void, and the process must run on untouched. A process that exits loses its address space too, and
/// must not be taken for one that exec'd.
/// </summary>
public sealed class PrecopyExecTests
{
    [Fact]
    public void A_process_that_executes_a_new_program_between_rounds_voids_the_precopy_and_runs_on()
    {
        var (read, write) = Pipe();
        using var child = ChildProcess.Start("/bin/bash", ["-c", "read line && exec /bin/sleep 60"], stdin: read);
        read.Dispose();
        using (write)
        {
            UntilBlockedIn(child.Pid, 0);
            using var engine = new CheckpointEngine();
            using var session = engine.StartPrecopy(child.Pid);
            Assert.NotNull(session);
            WriteRound(session);

            WriteAll(write, "go\n");
            Poll.Until(() => ExecutableOf(child.Pid)?.EndsWith("/sleep", StringComparison.Ordinal) == true, Patience, $"process {child.Pid} to exec sleep");

            var voided = Assert.Throws<ProcessReplacedException>(() => WriteRound(session));
            Assert.Equal(child.Pid, voided.Pid);
            Assert.Throws<ProcessReplacedException>(() => session.PendingBytes());
        }
        Assert.False(child.HasExited, "the process runs on after its pre-copy was voided");
        Assert.EndsWith("/sleep", ExecutableOf(child.Pid), StringComparison.Ordinal);
    }

    /// <summary>An exit loses the address space as an exec does, but there is nothing to copy again: the pre-copy
    /// says the process exited (a guest sent home once logged "executed a new program" for it).</summary>
    [Fact]
    public void A_process_that_exits_between_rounds_is_said_to_have_exited_not_to_have_executed_a_new_program()
    {
        var (read, write) = Pipe();
        using var child = ChildProcess.Start("/bin/bash", ["-c", "read line && exit 3"], stdin: read);
        read.Dispose();
        using (write)
        {
            UntilBlockedIn(child.Pid, 0);
            using var engine = new CheckpointEngine();
            using var session = engine.StartPrecopy(child.Pid);
            Assert.NotNull(session);
            WriteRound(session);

            WriteAll(write, "go\n");
            Poll.Until(() => OpenMosix.Linux.Proc.ProcFs.HasEnded(child.Pid), Patience, $"process {child.Pid} to exit");

            var ended = Assert.Throws<ProcessEndedException>(() => WriteRound(session));
            Assert.Equal(child.Pid, ended.Pid);
            Assert.Equal($"process {child.Pid} exited while it was being copied", ended.Message);
            Assert.Throws<ProcessEndedException>(() => session.PendingBytes());
        }
    }

    private static void WriteRound(PrecopySession session)
    {
        using var writer = new ImageWriter(Stream.Null, new ImageWriterOptions(LeaveOpen: true));
        session.WriteRound(writer);
    }

    private static string? ExecutableOf(int pid)
    {
        try
        {
            return new FileInfo($"/proc/{pid}/exe").LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
