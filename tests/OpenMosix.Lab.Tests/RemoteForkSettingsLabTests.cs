using System.Globalization;
using OpenMosix.Admin;
using OpenMosix.Lab.Tests.Support;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// What a process has at home follows it and what it forks away: its lock reaches its copy and the children the copy
/// forks on its node (at their fork: a later change reaches the copy only), and stays with those when they move on; and a job away that ends while what it forked holds its
/// terminal open has its last output on home's terminal before its shell at home goes on. Each test gets a lab of its
/// own without balancing, so that nothing moves but what the test moves. Every wait is on what the product reports:
/// `om ps` of each node, the lines on the terminal.
/// </summary>
public sealed class RemoteForkSettingsLabTests : IDisposable
{
    private readonly string _markers = Path.Combine(Path.GetTempPath(), $"om-rfset-{Guid.NewGuid():N}");

    private string Marker(string name) => $"{_markers}-{name}";

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public void A_locked_jobs_children_born_away_are_locked_there_and_stay_locked_when_moved_on_to_a_third_node()
    {
        using var lab = TestLab.WithDaemons(3, "--timeout", "15", "--no-balance");
        var script = $$"""
            while [ ! -e {{Marker("moved")}} ]; do :; done
            sleep 301 & a=$!
            echo "$a"
            wait $a; echo "status $?"
            """;
        using var shell = lab.InNode(1, [Om.Path, "run", "--lock", "bash", "-c", script]);
        Poll.Until(() => lab.Processes(1).Processes.Any(p => p.Pid == shell.Pid), Patience, "the shell to be managed");
        Assert.True(lab.Processes(1).Processes.Single(p => p.Pid == shell.Pid).Locked, "om run --lock locks the shell at home");

        lab.Migrate(1, shell.Pid, "2");
        ProcessRow Guest(int node, int home, int homePid) =>
            lab.Processes(node).Processes.Single(p => p.State == "guest" && p.Home == home && p.RemotePid == homePid);
        Assert.True(Guest(2, 1, shell.Pid).Locked, "the copy on node 2 carries the lock it has at home");

        // Unlocked and locked again at home through its lock file while away: its copy is told each time.
        var lockFile = Path.Join(lab.Layout.NodeHostRunDirectory(1), "proc", $"{shell.Pid}", "lock");
        Poll.Until(() => File.Exists(lockFile), Patience, "the shell's lock file at home");
        // Failed once in a CI rehearsal (2026-12-07: the unlock never reached the copy in 30 s; 2 of 2 alone after,
        // cause not found): a failure keeps both omds' logs (FailureReport).
        lab.ExplainingFailure(() =>
        {
            File.WriteAllText(lockFile, "0\n");
            Poll.Until(() => !Guest(2, 1, shell.Pid).Locked, Patience, "unlocking at home to unlock the copy on node 2");
            File.WriteAllText(lockFile, "1\n");
            Poll.Until(() => Guest(2, 1, shell.Pid).Locked, Patience, "locking at home again to lock the copy on node 2");
        });

        File.WriteAllText(Marker("moved"), "");
        shell.WaitForLines(1, Patience);
        var child = int.Parse(shell.Lines()[0], CultureInfo.InvariantCulture);

        // The child the copy forked there, managed there from birth, is locked as the copy is.
        Poll.Until(() => lab.Processes(2).Processes.Any(p => p.Pid == child && p.Home == 2), Patience, "node 2 to manage the child its guest forked");
        Assert.True(lab.Processes(2).Processes.Single(p => p.Pid == child && p.Home == 2).Locked, "the child born on node 2 inherits its parent's lock");

        // A lock changed at home later reaches the copy, not what the copy forked before: as in openMosix, a child takes
        // its parent's settings at its fork and has its own from then on (docs/migration.md). Checked once the copy has
        // the change: one message from home changes the copy's lock, and nothing else is sent for the child.
        lab.ExplainingFailure(() =>
        {
            File.WriteAllText(lockFile, "0\n");
            Poll.Until(() => !Guest(2, 1, shell.Pid).Locked, Patience, "unlocking the shell at home to unlock its copy on node 2");
        });
        Assert.True(lab.Processes(2).Processes.Single(p => p.Pid == child && p.Home == 2).Locked, "the child forked before the unlock keeps its lock");

        // Moved on from home to node 3 (a locked process moves when told to): its copy there is locked too.
        Poll.Until(() => lab.Processes(1).Processes.Any(p => p.Pid == child && p.Origin == "forked-away"), Patience, "home to list the child");
        lab.Migrate(1, child, "3");
        Poll.Until(() => lab.Processes(2).Processes.Any(p => p.Pid == child && p.State == "remote" && p.Where == 3), Patience, "node 2 to have the child on node 3");
        Assert.True(lab.Processes(2).Processes.Single(p => p.Pid == child && p.Home == 2).Locked, "the child stays locked at its birth node");
        Assert.True(Guest(3, 2, child).Locked, "the child's copy on node 3 carries its lock");

        lab.Exec(1, Om.Path, "kill", $"{child}").Succeeded();
        Assert.Equal(new ChildExit(0, 0), shell.Process.WaitForExit(Patience));
        Assert.Equal(["status 143"], shell.Lines().Skip(1));
    }

    /// <summary>
    /// An interactive shell at home runs a job, moved to node 2, that starts a sleep there (which holds the terminal
    /// open after the job ended: the job's exit goes home at once, "outlived") and writes a burst of lines and a last
    /// one; the shell prints its own line once the job ended. Three times: the job's last line is always above the
    /// shell's on home's terminal.
    /// </summary>
    [Fact]
    public void A_job_away_that_ends_while_its_children_hold_the_terminal_has_its_last_output_shown_before_its_shells_next_line()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        using var terminal = TmuxTerminal.Start($"{Om.Path} lab exec --name {lab.Name} 1 -- {Om.Path} run /bin/bash --norc --noprofile -i; echo EXITED $?; sleep 60");
        terminal.Type("PS1='ready> '");
        terminal.Shows(l => l == "ready>", "the shell's prompt");
        var shell = lab.Processes(1).Processes.Single(p => p.Command.Contains("bash --norc", StringComparison.Ordinal) && p.ParentPid == 0).Pid;
        for (var round = 1; round <= 3; round++)
        {
            var moved = Marker($"moved{round}");
            var sleep = $"30{round}";
            // setsid: out of the job's session on node 2, where the copy leads a session of its own on its terminal and
            // its end hangs up its foreground group (docs/migration.md); its descriptors are the terminal's still.
            terminal.Type($"bash -c 'while [ ! -e {moved} ]; do :; done; setsid sleep {sleep} & seq 1 12000; echo last-of-job-{round}'; echo shell-after-job-{round}");
            Poll.Until(() => lab.Processes(1).Processes.Any(p => p.ParentPid == shell && p.Command.Contains(moved, StringComparison.Ordinal)), Patience, "the job to be managed");
            var job = lab.Processes(1).Processes.Single(p => p.ParentPid == shell && p.Command.Contains(moved, StringComparison.Ordinal)).Pid;
            lab.Migrate(1, job, "2");
            File.WriteAllText(moved, "");

            terminal.Shows(l => l == $"shell-after-job-{round}", "the shell's line after the job");
            var lines = terminal.Lines();
            var last = lines.IndexOf($"last-of-job-{round}");
            Assert.True(last >= 0 && last < lines.IndexOf($"shell-after-job-{round}"),
                $"round {round}: the job's last line comes before the shell's next one; the terminal shows:\n{string.Join('\n', lines.Where(l => l.Length > 0).TakeLast(6))}");
            // The case under test: the job ended while the sleep it forked on node 2 runs on (home lists it).
            // Listed with the command line it had when node 2 last reported (that of its parent before its exec, maybe).
            ProcessRow? Outliving() => lab.Processes(1).Processes.FirstOrDefault(p => p.Origin == "forked-away");
            try
            {
                Poll.Until(() => Outliving() is not null, Patience, "home to list the sleep the job left running on node 2");
            }
            catch (TimeoutException e)
            {
                throw new TimeoutException($"{e.Message}; node 1 lists {string.Join("; ", lab.Processes(1).Processes.Select(p => $"{p.Pid} {p.State} {p.Origin} {p.Command}"))}; " +
                    $"node 2 lists {string.Join("; ", lab.Processes(2).Processes.Select(p => $"{p.Pid} {p.State} {p.Command}"))}", e);
            }
            lab.Exec(1, Om.Path, "kill", $"{Outliving()!.Pid}").Succeeded();
            Poll.Until(() => !lab.Processes(1).Processes.Any(p => p.Origin == "forked-away"), Patience, "home to drop the ended sleep");
        }
        terminal.Type("exit 7");
        terminal.Shows(l => l == "EXITED 7", "the shell to exit");
    }

    public void Dispose()
    {
        foreach (var marker in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(_markers) + "-*")) File.Delete(marker);
    }
}
