using System.Globalization;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Checkpoint.Tests.Engine;

/// <summary>
/// A guest adopted from an omd that died is init's child: the engine traces it for its exit status, and the copy
/// must behave as untraced meanwhile (signals delivered, a stop kept until SIGCONT).
/// </summary>
public sealed class AdoptedGuestTests
{
    [Fact]
    public async Task A_stopped_process_that_is_not_a_child_runs_on_after_SIGCONT_and_its_exit_code_is_reported()
    {
        var pid = Orphan("sleep 2; exit 7");
        Signals.Kill(pid, Signals.SIGSTOP);
        Poll.Until(() => State(pid) is 'T', TimeSpan.FromSeconds(5), "the orphan to stop");
        using var engine = new CheckpointEngine();

        var exit = engine.AdoptGuest(pid);
        Poll.Until(() => State(pid) is 't', TimeSpan.FromSeconds(5), "the adopted process to be held in its stop by its tracer");
        Assert.False(exit.IsCompleted);
        Signals.Kill(pid, Signals.SIGCONT);

        Assert.Equal(new ExitStatus(7, 0), await exit.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_signal_sent_to_an_adopted_process_is_delivered_and_its_death_by_it_is_reported()
    {
        var pid = Orphan("exec sleep 1000");
        using var engine = new CheckpointEngine();
        var exit = engine.AdoptGuest(pid);

        Signals.Kill(pid, Signals.SIGTERM);

        Assert.Equal(new ExitStatus(0, Signals.SIGTERM), await exit.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
    }

    /// <summary>
    /// A checkpoint, a pre-copy's set-up or a freeze kept until a thaw borrows the exit watch's trace of the main
    /// thread instead of detaching and seizing again (an exit in between went to init, its status lost): the process
    /// runs on after each, traced by the engine all along, and its exit code is reported.
    /// </summary>
    [Theory]
    [InlineData("resume")]
    [InlineData("frozen")]
    [InlineData("precopy")]
    public async Task An_adopted_process_runs_on_after_a_checkpoint_under_the_same_trace_and_its_exit_code_is_reported(string how)
    {
        var pid = Orphan(BusyThenExit7);
        using var engine = new CheckpointEngine();
        var exit = engine.AdoptGuest(pid);
        var tracer = TracerOf(pid);

        switch (how)
        {
            case "resume":
                engine.Checkpoint(pid, new InMemoryImage(), new DumpOptions(AfterDump.Resume));
                break;
            case "frozen":
                engine.Checkpoint(pid, new InMemoryImage(), new DumpOptions(AfterDump.KeepFrozen));
                Assert.Equal('t', State(pid));
                engine.Thaw(pid);
                break;
            default:
                engine.StartPrecopy(pid)?.Dispose();
                break;
        }

        Assert.Equal(tracer, TracerOf(pid));
        Assert.NotEqual('t', State(pid));
        Assert.Equal(new ExitStatus(7, 0), await exit.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken));
    }

    /// <summary>A second or two of shell arithmetic (no child to keep it from being checkpointed), then exit 7.</summary>
    private const string BusyThenExit7 = "i=0; while [ $i -lt 1000000 ]; do i=$((i+1)); done; exit 7";

    private static int TracerOf(int pid) =>
        int.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("TracerPid:", StringComparison.Ordinal))["TracerPid:".Length..].Trim(),
            CultureInfo.InvariantCulture);

    /// <summary>A shell running <paramref name="script"/> whose parent has exited: it belongs to init now.</summary>
    private static int Orphan(string script)
    {
        var started = CommandRun.Run("sh", ["-c", $"sh -c '{script}' </dev/null >/dev/null 2>&1 & echo $!"]);
        Assert.Equal(0, started.ExitCode);
        return int.Parse(started.Stdout.Trim(), CultureInfo.InvariantCulture);
    }

    private static char State(int pid) => OpenMosix.Linux.Proc.ProcStat.Parse(File.ReadAllText($"/proc/{pid}/stat")).State;
}
