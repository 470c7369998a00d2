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
        using var child = AfterARound("read line && exec /bin/sleep 60", (pid, session) =>
        {
            Poll.Until(() => ExecutableOf(pid)?.EndsWith("/sleep", StringComparison.Ordinal) == true, Patience, $"process {pid} to exec sleep");
            var voided = Assert.Throws<ProcessReplacedException>(() => WriteRound(session));
            Assert.Equal(pid, voided.Pid);
            Assert.Throws<ProcessReplacedException>(() => session.PendingBytes());
        });
        Assert.False(child.HasExited, "the process runs on after its pre-copy was voided");
        Assert.EndsWith("/sleep", ExecutableOf(child.Pid), StringComparison.Ordinal);
    }

    /// <summary>An exit loses the address space as an exec does, but there is nothing to copy again: the pre-copy
    /// says the process exited (a guest sent home once logged "executed a new program" for it).</summary>
    [Fact]
    public void A_process_that_exits_between_rounds_is_said_to_have_exited_not_to_have_executed_a_new_program()
    {
        using var child = AfterARound("read line && exit 3", (pid, session) =>
        {
            Poll.Until(() => OpenMosix.Linux.Proc.ProcFs.HasEnded(pid), Patience, $"process {pid} to exit");
            var ended = Assert.Throws<ProcessEndedException>(() => WriteRound(session));
            Assert.Equal(pid, ended.Pid);
            Assert.Equal($"process {pid} exited while it was being copied", ended.Message);
            Assert.Throws<ProcessEndedException>(() => session.PendingBytes());
        });
    }

    /// <summary>bash running <paramref name="script"/>, which waits for a line first: a pre-copy round of it, then the
    /// line, then <paramref name="then"/> with its PID and the session.</summary>
    private static ChildProcess AfterARound(string script, Action<int, PrecopySession> then)
    {
        var (read, write) = Pipe();
        var child = ChildProcess.Start("/bin/bash", ["-c", script], stdin: read);
        read.Dispose();
        try
        {
            using (write)
            {
                UntilBlockedIn(child.Pid, 0);
                using var engine = new CheckpointEngine();
                using var session = engine.StartPrecopy(child.Pid);
                Assert.NotNull(session);
                WriteRound(session);
                WriteAll(write, "go\n");
                then(child.Pid, session);
            }
            return child;
        }
        catch
        {
            child.Dispose();
            throw;
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
