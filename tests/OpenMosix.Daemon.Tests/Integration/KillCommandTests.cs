using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Integration;

/// <summary>om kill against a real omd: a managed process signalled, anything else refused in one line. Children
/// forked away from home are signalled over their parent's link (RemoteForkLabTests).</summary>
public sealed class KillCommandTests : IDisposable
{
    private readonly LoopbackCluster _cluster = new(1);

    public KillCommandTests() => _cluster.Start(1);

    public void Dispose() => _cluster.Dispose();

    [Fact]
    public void A_managed_process_gets_the_signal_named_and_its_row_is_printed()
    {
        using var sleep = ChildProcess.Start("/bin/sleep", ["74"]);
        Poll.Until(() => File.ReadAllText($"/proc/{sleep.Pid}/cmdline").Contains("74", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "sleep to run");
        Assert.Equal(0, _cluster.Om(1, "adopt", $"{sleep.Pid}").ExitCode);

        var kill = _cluster.Om(1, "kill", "-s", "sigkill", $"{sleep.Pid}");

        Assert.True(kill.ExitCode == 0, kill.ToString());
        Assert.StartsWith($"signalled {sleep.Pid} on node 1: /bin/sleep 74", kill.Stdout, StringComparison.Ordinal);
        Assert.Equal(Signals.SIGKILL, sleep.WaitForExit(TimeSpan.FromSeconds(10)).Signal);
    }

    [Theory]
    [InlineData("999999", "TERM", 1, "om: process 999999 is not managed by openMosix on this node\n")]
    [InlineData("1", "BOGUS", 2, "om: 'BOGUS' is not a signal name (TERM, KILL, INT, HUP, USR1, ...)\n")]
    [InlineData("1", "65", 2, "om: 65 is not a signal (1-64)\n")]
    public void Anything_but_a_managed_process_and_a_signal_is_refused_in_one_line(string pid, string signal, int exitCode, string error)
    {
        var kill = _cluster.Om(1, "kill", "-s", signal, pid);

        // A bad signal is a usage error (2), caught before omd is asked.
        Assert.Equal((exitCode, error), (kill.ExitCode, kill.Stderr));
    }
}
