using OpenMosix.Lab.Tests.Support;
using OpenMosix.TestSupport;
using static OpenMosix.Lab.Tests.Support.TakenOverCopies;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// An upgrade of omd (issue #17 part 1): a new binary, at another path, takes over from the running omd on each node
/// while a process runs away. `om lab restart` starts omd from the om that runs it, so a copy of om elsewhere stands
/// for the new version. The old omd is SIGKILLed (`--kill`), as a package upgrade that replaces the daemon without a
/// drain would: the process stays away, its copy a guest on node 2 and its deputy at home, and the new omd of each
/// node takes them over. A lab of its own, since it kills omd.
/// </summary>
public sealed class UpgradeLabTests
{
    [Fact]
    public void A_new_omd_binary_takes_over_from_the_running_one_on_the_copys_node_then_at_home_and_the_moved_process_ends_as_if_uninterrupted()
    {
        var upgraded = Directory.CreateTempSubdirectory("om-upgrade-");
        try
        {
            // The "new version": the published om and what it loads, copied to a path no omd runs from yet.
            foreach (var file in Directory.GetFiles(Path.GetDirectoryName(Om.Path)!))
                File.Copy(file, Path.Combine(upgraded.FullName, Path.GetFileName(file)));
            var newOm = Path.Combine(upgraded.FullName, "om");
            File.SetUnixFileMode(newOm, File.GetUnixFileMode(Om.Path));

            using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
            using var run = MovedToNode2(lab, UntilEnded);
            var copy = Copy(lab, run.Pid);
            run.WaitForLines(run.Lines().Count + 3);

            // The copy's node first: its new omd adopts the guest, and home resumes it on a new link.
            Upgrade(lab, newOm, 2);
            lab.WaitForDaemonLog(2, $"guest {copy} (process {run.Pid} of node 1) resumed by its home");
            Assert.Equal(copy, Copy(lab, run.Pid));
            run.WaitForLines(run.Lines().Count + 3);

            // Then home: its new omd takes the deputy over, and the copy's node relays to it.
            Upgrade(lab, newOm, 1);
            lab.WaitForDaemonLog(2, $"guest {copy} (process {run.Pid} of node 1) taken over by node 1's new omd");
            WaitForDaemonLogCount(lab, 1, $"process {run.Pid} taken over", 2);
            Assert.Equal(copy, Copy(lab, run.Pid));
            run.WaitForLines(run.Lines().Count + 3);

            // Both nodes run the new binary, and the process never left node 2.
            foreach (var node in new[] { 1, 2 })
            {
                var pid = lab.ReadStatus().Nodes.Single(n => n.Id == node).DaemonPid;
                Assert.NotNull(pid);
                Assert.Equal(newOm, File.ResolveLinkTarget($"/proc/{pid}/exe", returnFinalTarget: false)?.FullName);
            }
            EndsAsIfUninterrupted(lab, run, UntilEnded);
            Assert.DoesNotContain(lab.Processes(2).Processes, p => p.State == "guest");
        }
        finally
        {
            upgraded.Delete(recursive: true);
        }
    }

    /// <summary>`NEW lab restart --kill NODE`: the running omd SIGKILLed, and one started from <paramref name="newOm"/>.</summary>
    private static void Upgrade(TestLab lab, string newOm, int node)
    {
        var result = CommandRun.Run(newOm, ["lab", "restart", "--kill", "--name", lab.Name, $"{node}"]);
        Assert.True(result.ExitCode == 0, $"{newOm} lab restart --kill {node}: {result.Stderr}");
        Assert.Contains("killed (SIGKILL)", result.Stdout, StringComparison.Ordinal);
    }
}
