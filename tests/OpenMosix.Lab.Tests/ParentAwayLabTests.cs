using OpenMosix.Admin;
using OpenMosix.Lab.Tests.Support;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// A parent moves away while its children run on at home, as in openMosix: its deputy stays their parent there and
/// carries out its waits, its signals to them and getppid, and its SIGCHLD comes to it; what it prints is what it
/// prints unmoved. The parents are locked so that only the test moves anything.
/// </summary>
[Collection(ForkLab.ShellsCollection)]
public sealed class ParentAwayLabTests(ForkLab fixture)
{
    private TestLab Lab => fixture.Lab;

    private ProcessRow? Row(int pid) => Lab.Processes(1).Processes.FirstOrDefault(p => p.Pid == pid);

    private void MoveAndWait(int pid, int node)
    {
        Lab.Migrate(1, pid, $"{node}");
        Poll.Until(() => Row(pid) is { State: "remote" } row && row.Where == node, TimeSpan.FromSeconds(20), $"process {pid} to run on node {node}");
    }

    [Fact]
    public void A_shell_moved_away_while_it_waits_for_its_jobs_at_home_gets_their_real_statuses()
    {
        const string script = """
            sleep 6 & a=$!; sleep 7 & b=$!; (exit 7) & c=$!; bash -c 'kill -9 $$' & d=$!; (sleep 3; exit 4) & e=$!
            wait $a; echo "a $?"; wait $b; echo "b $?"; wait $c; echo "c $?"; wait $d; echo "d $?"; wait $e; echo "e $?"
            wait; echo "all $?"
            """;
        var plain = CommandRun.Run("bash", ["-c", script]);
        Assert.Equal(["a 0", "b 0", "c 7", "d 137", "e 4", "all 0"], plain.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        using var shell = Lab.Managed(1, "--lock", "bash", "-c", script);
        Poll.Until(() => Lab.Processes(1).Processes.Count(p => p.ParentPid == shell.Pid && p.Command.Contains("sleep 6", StringComparison.Ordinal)) == 1,
            TimeSpan.FromSeconds(20), "the shell's first job to be managed");
        MoveAndWait(shell.Pid, 2);
        Assert.All(Lab.Processes(1).Processes.Where(p => p.ParentPid == shell.Pid), job => Assert.Equal(1, job.Where));
        Assert.Equal(0, shell.Process.WaitForExit(TimeSpan.FromSeconds(60)).Code);
        Assert.Equal(plain.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries), shell.Lines());
    }

    [Fact]
    public void Make_moved_away_mid_build_collects_its_compilers_at_home_and_builds_the_same_objects_as_a_plain_make()
    {
        using var work = new TempDirectory("om-make-away");
        var generator = Path.Combine(TestPrograms.RepositoryRoot, "bench", "trees", "gen-sources.sh");
        foreach (var tree in new[] { "plain", "managed" })
            Assert.Equal(0, CommandRun.Run("bash", [generator, work.File(tree), "6", "80"]).ExitCode);
        var plain = CommandRun.Run("make", ["-s", "-j2", "-C", work.File("plain")], timeout: TimeSpan.FromMinutes(3));
        Assert.True(plain.ExitCode == 0, plain.ToString());

        // Locked, and so its jobs: they stay on node 1 while make itself runs on node 2, with its jobserver pipe.
        using var make = Lab.Managed(1, "--lock", "make", "-s", "-j2", "-C", work.File("managed"));
        Poll.Until(() => Lab.Processes(1).Processes.Any(p => p.ParentPid == make.Pid), TimeSpan.FromSeconds(30), "make to start its first job");
        MoveAndWait(make.Pid, 2);
        Assert.Equal(0, make.Process.WaitForExit(TimeSpan.FromSeconds(180)).Code);
        foreach (var file in Directory.GetFiles(work.File("plain"), "*.o").Select(Path.GetFileName))
            Assert.Equal(File.ReadAllBytes(Path.Combine(work.File("plain"), file!)), File.ReadAllBytes(Path.Combine(work.File("managed"), file!)));
        Assert.Equal(CommandRun.Run(work.File("plain/program"), []).Stdout, CommandRun.Run(work.File("managed/program"), []).Stdout);
    }

    [Fact]
    public void A_moved_c_parent_sees_its_parent_kills_a_child_at_home_gets_sigchld_and_reaps_all_even_one_moved_elsewhere()
    {
        var program = TestPrograms.Locate("parentaway");
        using var work = new TempDirectory("om-parentaway");
        File.WriteAllText(work.File("go"), "");
        var plain = CommandRun.Run(program, [work.File("go"), "1"]);
        Assert.True(plain.ExitCode == 0, plain.ToString());
        var expected = plain.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();

        using var parent = Lab.Managed(1, "--lock", program, work.File("marker"), "12");
        Poll.Until(() => parent.Lines().Count > 0, TimeSpan.FromSeconds(20), "the parent to fork its children");
        var children = parent.Lines()[0].Split(' ').Skip(1).Select(int.Parse).ToList();
        Poll.Until(() => Row(children[3]) is not null, TimeSpan.FromSeconds(20), "the spinning child to be managed");
        MoveAndWait(parent.Pid, 2);
        // A child of the moved parent moves on its own: its deputy stays the parent's deputy's child at home.
        MoveAndWait(children[3], 3);
        Assert.Equal(1, Row(children[1])!.Where);
        File.WriteAllText(work.File("marker"), "");
        Assert.Equal(0, parent.Process.WaitForExit(TimeSpan.FromSeconds(60)).Code);
        Assert.Equal(expected, parent.Lines().Skip(1));
    }
}
