using Microsoft.Win32.SafeHandles;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Daemon.Migration;
using OpenMosix.Daemon.Processes;
using OpenMosix.Linux;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Processes;

/// <summary>
/// A move asked for while om run is still starting waits until its exec is complete. lateexec stands for om run
/// just before its exec: a close-on-exec pipe end on fd 4 whose other end it does not hold (om's dup of a piped
/// stdout), and an exec when the test writes a line to its stdin.
/// </summary>
public sealed class OmStartupTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly SafeFileHandle _go;
    private readonly ChildProcess _starting;

    public OmStartupTests()
    {
        var (read, write) = Descriptors.CreatePipe();
        _go = write;
        using (read)
            _starting = ChildProcess.Start(TestPrograms.Locate("lateexec"), ["/bin/sleep", "60"], stdin: read);
        Poll.Until(() => Fd4().StartsWith("pipe:", StringComparison.Ordinal), Patience, "lateexec to hold its pipe on fd 4");
    }

    public void Dispose()
    {
        _starting.Dispose();
        _go.Dispose();
    }

    private string Fd4()
    {
        try
        {
            return ProcFs.ReadLink(_starting.Pid, "fd/4");
        }
        catch (ProcessAccessException)
        {
            return "";
        }
    }

    private void Exec() => Descriptors.WriteAll(_go, "\n"u8);

    [Fact]
    public void Registration_records_oms_close_on_exec_descriptors_and_not_the_standard_ones()
    {
        var startup = OmStartup.Of(_starting.Pid)!;
        Assert.Equal(TestPrograms.Locate("lateexec"), startup.Executable);
        Assert.Equal([(4, Fd4())], startup.CloseOnExec);
    }

    [Fact]
    public void A_process_whose_exe_names_its_program_has_not_left_om_behind_while_oms_descriptors_are_still_open()
    {
        // The instant inside execve after the kernel swapped the address space (exe names the program) and before it
        // closed the close-on-exec descriptors: the old check, exe alone, took it for done, and the move saw fd 4.
        var midExec = OmStartup.Of(_starting.Pid)! with { Executable = "/usr/bin/om" };
        Assert.False(midExec.IsLeftBehind(_starting.Pid));

        Exec();
        Poll.Until(() => midExec.IsLeftBehind(_starting.Pid), Patience, "the exec to close fd 4");
        Assert.Equal("", Fd4());
    }

    [Fact]
    public async Task A_move_asked_for_before_the_exec_goes_ahead_once_the_program_runs_and_finds_nothing_of_om_in_the_way()
    {
        var registry = new ProcessRegistry(1);
        var process = registry.Register(_starting.Pid, 0, execsNext: true);
        var waited = HomeMigration.WaitForExecAsync(process);
        Assert.False(waited.IsCompleted);

        Exec();
        await waited.WaitAsync(Patience, TestContext.Current.CancellationToken);
        Assert.EndsWith("/sleep", ProcessRegistry.ExecutableOf(_starting.Pid), StringComparison.Ordinal);
        using var engine = new CheckpointEngine();
        Assert.Empty(engine.AnalyzeCantMove(_starting.Pid).Reasons);
    }

    [Fact]
    public void A_process_that_ended_has_nothing_left_to_wait_for()
    {
        var startup = OmStartup.Of(_starting.Pid)!;
        _starting.Kill();
        _starting.WaitForExit(Patience);
        Assert.True(startup.IsLeftBehind(_starting.Pid));
        Assert.Null(OmStartup.Of(_starting.Pid));
    }
}
