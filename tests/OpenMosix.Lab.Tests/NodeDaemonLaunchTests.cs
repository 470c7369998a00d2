using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// The piece of `om lab up` that starts omd in a node, exercised with stand-in daemons (omd itself is built elsewhere):
/// one that listens on the node's socket, one that fails at once.
/// </summary>
public sealed class NodeDaemonLaunchTests
{
    private const string ListeningDaemon =
        "import socket, time\n" +
        "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n" +
        "s.bind('/run/openmosix/omd.sock')\n" +
        "s.listen(8)\n" +
        "print('listening', flush=True)\n" +
        "while True: s.accept()[0].close()\n";

    [Fact]
    public void A_daemon_started_in_a_node_runs_detached_inside_it_and_is_ready_when_its_socket_accepts()
    {
        using var lab = new TestLab(2);
        var layout = lab.Layout;
        var log = layout.NodeDaemonLog(2);
        var pid = NodeProcessLauncher.Start(layout, 2, Om.Path, ["python3", "-c", ListeningDaemon], log);

        try
        {
            DaemonReadiness.WaitAll([new PendingDaemon(2, pid, layout.NodeHostSocket(2), log)], TimeSpan.FromSeconds(20));

            Assert.True(LabInspector.IsInNode(layout, 2, pid), "the daemon is not in node 2's cgroups");
            Assert.Equal(HostProbe.NamespaceOfFile(layout.NetnsFile(2)), HostProbe.NamespaceOf(pid, "net"));
            // Its own session, so that the terminal `om lab up` ran in can close without a SIGHUP reaching it.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var session = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[3];
            Assert.Equal($"{pid}", session);
            Assert.Equal("listening\n", File.ReadAllText(log));

            lab.Down().Succeeded();
            Assert.True(Children.Reap(pid, TimeSpan.FromSeconds(10)).TermSignal == Signals.SIGKILL, "down did not kill the daemon");
            HostProbe.AssertNothingLeft(lab.Name);
        }
        finally
        {
            Children.KillIfRunning(pid);
        }
    }

    [Fact]
    public void A_daemon_that_exits_before_its_socket_is_ready_fails_the_wait_with_the_end_of_its_log()
    {
        using var lab = new TestLab(1);
        var layout = lab.Layout;
        var log = layout.NodeDaemonLog(1);
        var pid = NodeProcessLauncher.Start(layout, 1, Om.Path, ["sh", "-c", "echo 'config: no such key' >&2; exit 3"], log);

        var failure = Assert.Throws<LabException>(() =>
            DaemonReadiness.WaitAll([new PendingDaemon(1, pid, layout.NodeHostSocket(1), log)], TimeSpan.FromSeconds(20)));

        Assert.Contains("node 1", failure.Message);
        Assert.Contains("exited with status 3", failure.Message);
        Assert.Contains("config: no such key", failure.Message);
    }
}
