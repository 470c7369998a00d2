using System.Text.RegularExpressions;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests.Support;

/// <summary>
/// The steps the guest takeover tests share (issue #17 part 1, the guest side): a process of node 1 whose copy runs on
/// node 2, and node 2's omd killed and started again. Each of those test classes builds a lab per test, since it
/// kills omd; they are several classes so that the suite runs them side by side.
/// </summary>
internal static class TakenOverCopies
{
    /// <summary>memticker (16 MB, a tick every 50 ms) started with om run on node 1, moved to node 2 after 3 ticks;
    /// <paramref name="ticks"/> is how many, or <see cref="UntilEnded"/>.</summary>
    public static ManagedRun MovedToNode2(TestLab lab, string ticks)
    {
        var run = lab.Managed(1, TestPrograms.Locate("memticker"), "16", ticks, "50");
        run.WaitForLines(3);
        lab.Migrate(1, run.Pid, "2");
        return run;
    }

    /// <summary>Node 2's omd SIGKILLed and started again: the copy adopted there and resumed by home; returns the copy.</summary>
    public static int TakenOverByANewOmd(TestLab lab, ManagedRun run)
    {
        var copy = Copy(lab, run.Pid);
        Om.Run(["lab", "restart", "--kill", "--name", lab.Name, "2"]).Succeeded();
        lab.WaitForDaemonLog(2, $"guest {copy} (process {run.Pid} of node 1) resumed by its home");
        Assert.Equal(copy, Copy(lab, run.Pid));
        run.WaitForLines(run.Lines().Count + 3);
        return copy;
    }

    /// <summary>The PID of the copy on node 2 of node 1's process <paramref name="pid"/> (which must run there).</summary>
    public static int Copy(TestLab lab, int pid)
    {
        var row = lab.Processes(1).Processes.Single(p => p.Pid == pid);
        Assert.Equal(("remote", 2), (row.State, row.Where));
        return row.RemotePid;
    }

    /// <summary>How many checkpoints of <paramref name="pid"/> home has stored so far.</summary>
    public static int Stored(TestLab lab, int pid) =>
        Regex.Count(File.ReadAllText(lab.Layout.NodeDaemonLog(1)), $@"process {pid}: checkpoint \d+ stored");

    public static void WaitForDaemonLogCount(TestLab lab, int node, string text, int count) =>
        Poll.Until(() => File.ReadAllText(lab.Layout.NodeDaemonLog(node)).Split(text).Length - 1 >= count, TimeSpan.FromSeconds(30),
            $"node {node}'s omd to log '{text}' {count} times");

    /// <summary>The state letter of /proc/PID/stat ('X' once it is gone).</summary>
    public static char State(int pid)
    {
        try
        {
            return OpenMosix.Linux.Proc.ProcStat.Parse(File.ReadAllText($"/proc/{pid}/stat")).State;
        }
        catch (IOException)
        {
            return 'X';
        }
    }

    /// <summary>The end of a taken-over copy's story: the process ends with the output of an uninterrupted run, and
    /// home never lost it nor restarted it from a checkpoint.</summary>
    /// <summary>The ticks argument of memticker for a run the test ends itself (CheckpointRestartLabTests.EndTicking).</summary>
    public const string UntilEnded = "usr1";

    public static void EndsAsIfUninterrupted(TestLab lab, ManagedRun run, string ticks)
    {
        if (ticks == UntilEnded)
        {
            Assert.Equal(new ChildExit(0, 0), CheckpointRestartLabTests.EndTicking(run));
            Assert.Equal(CheckpointRestartLabTests.UninterruptedAsLong(run.Lines()), run.Lines());
        }
        else
        {
            Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(90)));
            Assert.Equal(CheckpointRestartLabTests.Uninterrupted("16", ticks), run.Lines());
        }
        var home = File.ReadAllText(lab.Layout.NodeDaemonLog(1));
        Assert.DoesNotContain($"process {run.Pid} lost", home, StringComparison.Ordinal);
        Assert.DoesNotContain($"process {run.Pid} restarted here", home, StringComparison.Ordinal);
    }
}
