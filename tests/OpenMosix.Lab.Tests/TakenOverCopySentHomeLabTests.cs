using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;
using static OpenMosix.Lab.Tests.Support.TakenOverCopies;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// Taken over (GuestTakeoverLabTests), the copy is a guest like any other on its node: listed there, and sent home by
/// `mosctl expel` or by the drain of an orderly stop of that node's omd (`om lab restart 2`: SIGTERM), not left to its
/// keeper. A lab of its own for each, since it kills omd.
/// </summary>
public sealed class TakenOverCopySentHomeLabTests
{
    [Theory]
    [InlineData("expel")]
    [InlineData("restart")]
    public void A_taken_over_copy_is_listed_on_its_node_and_sent_home_by_mosctl_expel_or_the_drain_of_its_omd_with_the_output_of_an_uninterrupted_run(string how)
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var run = MovedToNode2(lab, UntilEnded);
        var copy = TakenOverByANewOmd(lab, run);
        using var copyFd = Linux.PidFd.Open(copy);
        var listed = lab.Processes(2).Processes.Single(p => p.Pid == copy);
        Assert.Equal(("guest", 1, run.Pid), (listed.State, listed.Home, listed.RemotePid));

        if (how == "expel")
        {
            Assert.Equal("sent 1 guest home; switches: block\n", lab.Exec(2, Om.Path, "mosctl", "expel").Succeeded().Stdout);
        }
        else
        {
            Om.Run(["lab", "restart", "--name", lab.Name, "2"]).Succeeded();
            lab.WaitForDaemonLog(2, $"stopping: guest {copy} (process {run.Pid} of node 1) went home");
        }
        var row = lab.Processes(1).Processes.Single(p => p.Pid == run.Pid);
        Assert.Equal(("home", 1), (row.State, row.Where));
        Poll.Until(() => !copyFd.Exists, TimeSpan.FromSeconds(10), "the copy left on node 2 to be gone");
        run.WaitForLines(run.Lines().Count + 3);

        EndsAsIfUninterrupted(lab, run, UntilEnded);
        var away = File.ReadAllText(lab.Layout.NodeDaemonLog(2));
        Assert.DoesNotContain("left stopped to its keeper", away, StringComparison.Ordinal);
        Assert.DoesNotContain(lab.Processes(2).Processes, p => p.State == "guest");
    }
}
