using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// Every process a candidate, as in openMosix: processes started plainly (not with om run) are adopted by `migrate`
/// or `om adopt`, move with the same transparency, and are given back by `om release`.
/// </summary>
[Collection(ForkLab.ShellsCollection)]
public sealed class AdoptionLabTests(ForkLab fixture)
{
    private TestLab Lab => fixture.Lab;

    private static string Spinner => TestPrograms.Locate("spinner");

    /// <summary>The shell's lines cut to their first two words (a spinner's lines go on with numbers that vary).</summary>
    private static string[] FirstTwoWords(ManagedRun shell) => [.. shell.Lines().Select(l => l.Split(' ', 3) is [var a, var b, ..] ? $"{a} {b}" : l)];

    /// <summary>A spinner that uses CPU until the test sends it SIGUSR1 once it has seen what it waits for (the job
    /// moved, or the jobs spread), then prints "spinner done" and exits 0; it prints "spinner start" once its handler
    /// is set, and the test signals it only after that line (before, SIGUSR1 would kill it). A fixed amount of work
    /// (4-6 s of CPU each, on half-CPU nodes) was waited out after the last check: 15-40 s of each test
    /// (docs/testing.md).</summary>
    private static string Job => $"{Spinner} usr1";

    /// <summary>`om lab exec 1 -- bash -c SCRIPT`, not managed, its stdout a pipe the test reads.</summary>
    private ManagedRun Plain(string script) => Lab.InNode(1, ["bash", "-c", script]);

    /// <summary>The child of <paramref name="parent"/> running <paramref name="program"/> (om lab exec runs helpers of
    /// its own before it becomes the shell).</summary>
    private static int ChildRunning(int parent, string program)
    {
        int? Find() => ProcFs.ReadChildren(parent).Cast<int?>().FirstOrDefault(c =>
        {
            try
            {
                return ProcFs.ReadCommandLine(c.GetValueOrDefault()) is [var first, ..] && first == program;
            }
            catch (ProcessAccessException)
            {
                return false;
            }
        });
        // The child found is kept: asked again, a child that execs all the time may be between two programs.
        int? found = null;
        Poll.Until(() => (found = Find()) is not null, TimeSpan.FromSeconds(10), $"process {parent}'s child {program}");
        return found!.Value;
    }

    [Fact]
    public void A_program_started_plainly_moves_with_migrate_and_back_and_its_shell_sees_its_output_and_status()
    {
        using var shell = Plain($"{Job}; echo \"status $?\"");
        var job = ChildRunning(shell.Pid, Spinner);
        Assert.DoesNotContain(Lab.Processes(1).Processes, p => p.Pid == job);

        Lab.Migrate(1, job, "2");
        var row = Lab.Processes(1).Processes.Single(p => p.Pid == job);
        Assert.Equal(("remote", 2, "adopted"), (row.State, row.Where, row.Origin));
        Lab.Migrate(1, job, "home");
        shell.WaitForLines(1); // "spinner start": printed once its SIGUSR1 handler is set
        Signals.Kill(job, Signals.SIGUSR1);
        Assert.Equal(new ChildExit(0, 0), shell.Process.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Equal(["spinner start", "spinner done", "status 0"], FirstTwoWords(shell));
    }

    [Fact]
    public void Release_of_a_plain_process_away_brings_it_home_untraced_and_its_shell_sees_it_end_as_it_would_have()
    {
        using var shell = Plain($"{Job}; echo \"status $?\"");
        var job = ChildRunning(shell.Pid, Spinner);
        Lab.Migrate(1, job, "2");

        Assert.StartsWith($"released {job}", Lab.Exec(1, Om.Path, "release", $"{job}").Succeeded().Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(Lab.Processes(1).Processes, p => p.Pid == job);
        Assert.Equal(0, ProcFs.ReadStatus(job).TracerPid);
        Poll.Until(() => !Lab.Processes(2).Processes.Any(p => p.Home == 1 && p.RemotePid == job), TimeSpan.FromSeconds(10), "node 2 to hold nothing of it");
        shell.WaitForLines(1); // "spinner start": printed once its SIGUSR1 handler is set
        Signals.Kill(job, Signals.SIGUSR1);
        Assert.Equal(new ChildExit(0, 0), shell.Process.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Equal(["spinner start", "spinner done", "status 0"], FirstTwoWords(shell));
    }

    /// <summary>`migrate PID 2` of a process that may be mid-fork, mid-exec or ending, until it has moved (true) or
    /// has ended (false). Each refusal is one line, and leaves the process as it was: not managed, not traced.</summary>
    private bool MovesOrIsGivenBack(int pid)
    {
        for (var attempt = 0; attempt < 40; attempt++)
        {
            var run = Lab.Exec(1, Om.Path, "migrate", $"{pid}", "2");
            if (run.ExitCode == 0) return true;
            Assert.Matches("^om: [^\n]+\n$", run.Stderr);
            // A failure names the refusal and what omd logged as failed (a route's exception is logged, not answered).
            if (Lab.Processes(1).Processes.Where(p => p.Pid == pid || p.ParentPid == pid).ToList() is { Count: > 0 } left)
                Assert.Fail($"process {pid} is still managed after \"{run.Stderr.Trim()}\": " +
                    string.Join("; ", left.Select(p => $"{p.Pid} {p.Origin} {p.State} {p.Command}")) + "\nnode 1's last errors:\n" +
                    string.Join('\n', File.ReadLines(Lab.Layout.NodeDaemonLog(1)).Where(l => l.Contains("fail", StringComparison.Ordinal)).TakeLast(5)));
            try
            {
                Assert.Equal(0, ProcFs.ReadStatus(pid).TracerPid);
            }
            catch (ProcessAccessException)
            {
                return false; // it ended
            }
        }
        return false;
    }

    [Fact]
    public void A_plain_process_that_execs_all_the_time_moves_or_is_given_back_and_its_shell_sees_it_end_as_it_would_have()
    {
        var chain = Path.Combine(Path.GetTempPath(), $"om-adopt-chain-{Guid.NewGuid():N}.sh");
        File.WriteAllText(chain, """
            i=$1
            [ "$i" -ge 1500 ] && { echo "execs $i"; exit 7; }
            exec /bin/sh "$0" $((i + 1))
            """);
        try
        {
            using var shell = Plain($"/bin/sh {chain} 0; echo \"status $?\"");
            MovesOrIsGivenBack(ChildRunning(shell.Pid, "/bin/sh"));
            Assert.Equal(new ChildExit(0, 0), WaitOrExplain(shell, TimeSpan.FromSeconds(60)));
            Assert.Equal(["execs 1500", "status 7"], shell.Lines());
        }
        finally
        {
            File.Delete(chain);
        }
    }

    [Fact]
    public void A_plain_shell_that_forks_all_the_time_moves_or_is_given_back_and_ends_as_it_would_have()
    {
        using var shell = Plain("for i in $(seq 1500); do /bin/true; done; echo \"loops done\"");
        Poll.Until(() => ProcFs.ReadChildren(shell.Pid).Count > 0, TimeSpan.FromSeconds(10), "the shell to fork");
        MovesOrIsGivenBack(shell.Pid);
        Assert.Equal(new ChildExit(0, 0), WaitOrExplain(shell, TimeSpan.FromSeconds(60)));
        Assert.Equal(["loops done"], shell.Lines());
    }

    [Fact]
    public void A_plain_process_that_ends_while_it_is_adopted_leaves_nothing_behind_and_its_shell_sees_its_status()
    {
        using var shell = Plain("/bin/sleep 0.5; echo \"status $?\"");
        var job = ChildRunning(shell.Pid, "/bin/sleep");
        MovesOrIsGivenBack(job);
        Assert.Equal(new ChildExit(0, 0), WaitOrExplain(shell, TimeSpan.FromSeconds(30)));
        Assert.Equal(["status 0"], shell.Lines());
        Poll.Until(() => !Lab.Processes(1).Processes.Any(p => p.Pid == job) && !Lab.Processes(2).Processes.Any(p => p.Home == 1 && p.RemotePid == job),
            TimeSpan.FromSeconds(10), "nodes 1 and 2 to hold nothing of it");
    }

    [Fact]
    public void Adopt_tree_takes_a_plain_shell_and_its_jobs_and_release_gives_each_back_untraced()
    {
        using var shell = Plain("/bin/sleep 40 & /bin/sleep 41 & wait");
        ChildRunning(shell.Pid, "/bin/sleep");
        Poll.Until(() => ProcFs.ReadChildren(shell.Pid).Count(c => ProcFs.ReadComm(c) == "sleep") == 2, TimeSpan.FromSeconds(10), "the shell's two jobs");
        var adopted = Lab.Exec(1, Om.Path, "adopt", "--tree", $"{shell.Pid}").Succeeded().Stdout;
        Assert.Equal(3, adopted.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        var rows = Lab.Processes(1).Processes.Where(p => p.Pid == shell.Pid || p.ParentPid == shell.Pid).ToList();
        Assert.Equal(3, rows.Count);
        Assert.All(rows, r => Assert.Equal("adopted", r.Origin));
        try
        {
            foreach (var row in rows)
                Assert.StartsWith($"released {row.Pid}", Lab.Exec(1, Om.Path, "release", $"{row.Pid}").Succeeded().Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain(Lab.Processes(1).Processes, p => rows.Any(r => r.Pid == p.Pid));
            Assert.All(rows, r => Assert.Equal(0, ProcFs.ReadStatus(r.Pid).TracerPid));
        }
        finally
        {
            foreach (var child in ProcFs.ReadChildren(shell.Pid)) Signals.Kill(child, Signals.SIGKILL);
        }
        Assert.Equal(0, shell.Process.WaitForExit(TimeSpan.FromSeconds(20)).Signal);
    }

    [Fact]
    public void With_a_manage_rule_for_a_user_the_jobs_that_user_starts_plainly_spread_by_themselves()
    {
        Lab.Exec(1, Om.Path, "mosctl", "manage", "--users", "nobody").Succeeded();
        try
        {
            using var shell = Plain($"exec runuser -u nobody -- bash -c 'for i in 1 2 3 4 5 6 7 8; do {Job} & done; wait; echo all done'");
            JobsSpreadAndEnd(shell, 8, p => p.Uid == 65534 && p.Command.StartsWith(Spinner, StringComparison.Ordinal), "the user's eight jobs to be managed");
        }
        finally
        {
            Lab.Exec(1, Om.Path, "mosctl", "manage", "--users", "").Succeeded();
        }
    }

    [Fact]
    public void With_a_manage_rule_for_a_cgroup_the_jobs_started_plainly_in_it_spread_by_themselves()
    {
        // Every process of node 1 is in its cgroup /omlab-LAB/n1 (cgroup v1 here, as a systemd slice would be).
        Lab.Exec(1, Om.Path, "mosctl", "manage", "--cgroups", $"/omlab-{Lab.Name}/n1").Succeeded();
        try
        {
            using var shell = Plain($"for i in 1 2 3 4 5 6; do {Job} & done; wait; echo all done");
            JobsSpreadAndEnd(shell, 6, p => p.Origin is "adopted" or "child" && p.Command.StartsWith(Spinner, StringComparison.Ordinal), "the six jobs to be managed (adopted, or children of the adopted shell)");
        }
        finally
        {
            Lab.Exec(1, Om.Path, "mosctl", "manage", "--cgroups", "").Succeeded();
        }
    }

    [Fact]
    public void With_the_login_session_rule_of_install_sh_the_jobs_started_plainly_in_a_session_spread_by_themselves()
    {
        // A login session as systemd makes it, under node 1's cgroup: user.slice/user-UID.slice/session-N.scope.
        string[] levels = ["user.slice", "user-0.slice", "session-1.scope"];
        var scopes = levels.Select((_, i) => Path.Combine([Lab.Layout.CpuCgroup(1), .. levels.Take(i + 1)])).ToList();
        var loggedIn = Path.Combine(Path.GetTempPath(), $"om-adopt-login-{Guid.NewGuid():N}");
        Directory.CreateDirectory(scopes[^1]);
        // The rule install.sh --manage-logins writes.
        Lab.Exec(1, Om.Path, "mosctl", "manage", "--cgroups", "user.slice").Succeeded();
        try
        {
            using var shell = Plain($"while [ ! -e {loggedIn} ]; do sleep 0.05; done; for i in 1 2 3 4 5 6; do {Job} & done; wait; echo all done");
            // Once it is the shell: om lab exec joins node 1's cgroup itself before it becomes the shell.
            Poll.Until(() => ProcFs.ReadCommandLine(shell.Pid) is ["bash", ..], TimeSpan.FromSeconds(10), "the shell to run");
            File.WriteAllText(Path.Combine(scopes[^1], "cgroup.procs"), $"{shell.Pid}");
            File.WriteAllText(loggedIn, "");
            // Without the proc connector (a lab node's network namespace) omd finds new processes by scanning /proc and
            // asks the rule about the shell itself once it has been seen: if the shell is in the session by then, it is
            // adopted and its jobs are managed from birth as its children ("child"); if not, each job is adopted at its
            // exec. Both are the rule at work; which one comes first depends on the scan's timing (CI, 2026-12-07).
            JobsSpreadAndEnd(shell, 6, p => p.Origin is "adopted" or "child" && p.Command.StartsWith(Spinner, StringComparison.Ordinal), "the session's six jobs to be managed (adopted, or children of the adopted shell)");
        }
        finally
        {
            Lab.Exec(1, Om.Path, "mosctl", "manage", "--cgroups", "").Succeeded();
            File.Delete(loggedIn);
            // The session's last processes may still be leaving it (a job's deputy ending after the shell's wait):
            // a cgroup with tasks cannot be removed.
            Poll.Until(() => File.ReadAllText(Path.Combine(scopes[^1], "cgroup.procs")).Trim().Length == 0, TimeSpan.FromSeconds(15),
                "the login session's processes to end");
            foreach (var scope in Enumerable.Reverse(scopes)) Directory.Delete(scope);
        }
    }

    /// <summary>The shell's <paramref name="count"/> jobs (<paramref name="isJob"/>) are managed (<paramref name="what"/>),
    /// spread over three nodes or more by themselves, and the shell ends with "all done".</summary>
    private void JobsSpreadAndEnd(ManagedRun shell, int count, Func<Admin.ProcessRow, bool> isJob, string what)
    {
        IReadOnlyList<Admin.ProcessRow> Jobs() => [.. Lab.Processes(1).Processes.Where(isJob)];
        // Failed in two CI rehearsals of three on 2026-12-07 (adoption past 40 s; `om ps` printing nothing) without a
        // cause: a failure keeps every node's omd log (FailureReport).
        try
        {
            Lab.ExplainingFailure(() =>
            {
                // 40 s: a CI run under load once took over 20 s to adopt six jobs of a login session (cause not found).
                Poll.Until(() => Jobs().Count == count, TimeSpan.FromSeconds(40), what);
                Poll.Until(() => Jobs().Select(j => j.Where).Distinct().Count() >= 3, TimeSpan.FromSeconds(30), "the jobs to run on three nodes or more");
                // Spread: each job is ended at home, wherever it runs (forwarded to a copy as any signal), once all
                // have said they are ready for it; their lines reach the shell's stdout from wherever they run.
                Poll.Until(() => shell.Lines().Count(l => l == "spinner start") == count, TimeSpan.FromSeconds(30), "every job's \"spinner start\"");
                var jobs = Descendants.Named(shell.Pid, "spinner");
                Assert.Equal(count, jobs.Count);
                foreach (var job in jobs) Signals.Kill(job, Signals.SIGUSR1);
                Assert.Equal(0, WaitOrExplain(shell, TimeSpan.FromSeconds(120)).Code);
                var lines = shell.Lines();
                Assert.Equal("all done", lines[^1]);
                Assert.Equal([.. Enumerable.Repeat("spinner done", count), .. Enumerable.Repeat("spinner start", count)], lines.SkipLast(1).Order(StringComparer.Ordinal));
            });
        }
        finally
        {
            // After a failure, no job may spin on in the lab the next tests share (a deputy's end ends its copy).
            if (!shell.Process.HasExited) Descendants.Kill(shell.Pid);
        }
    }

    /// <summary>Waits for the shell; if it does not end, the failure says where every process of the lab stood and
    /// what node 1's omd last warned about, so a run that cannot be repeated still shows its cause.</summary>
    private ChildExit WaitOrExplain(ManagedRun shell, TimeSpan timeout)
    {
        try
        {
            return shell.Process.WaitForExit(timeout);
        }
        catch (TimeoutException e)
        {
            var where = string.Join('\n', Enumerable.Range(1, 4).Select(n => $"node {n}:\n{Lab.Exec(n, Om.Path, "ps", "--tree").Stdout}"));
            var warnings = File.ReadLines(Lab.Layout.NodeDaemonLog(1)).Where(l => l.Contains("warn", StringComparison.Ordinal)).TakeLast(15);
            throw new TimeoutException($"{e.Message}\n{where}\nnode 1's last warnings:\n{string.Join('\n', warnings)}", e);
        }
    }

    [Theory]
    [InlineData("adopt", "1", "om: process 1 is init")]
    [InlineData("migrate", "2", "om: process 2 is a kernel thread")]
    [InlineData("adopt", "3999999", "om: process 3999999 does not exist")]
    public void Processes_that_may_not_be_adopted_are_refused_in_one_line(string command, string pid, string error)
    {
        string[] arguments = command == "migrate" ? [Om.Path, command, pid, "2"] : [Om.Path, command, pid];
        var refused = Lab.Exec(1, arguments);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Equal(error + "\n", refused.Stderr);
    }
}
