using OpenMosix.Admin;
using OpenMosix.Lab.Tests.Support;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// A parent that forks while it is being moved (issue #13's faults): the children born at home during its pre-copy
/// rounds and its freeze are managed there as its children, its deputy stays their parent, and the moved parent reaps
/// every one with its own status; afterwards no deputy, guest or zombie of any of them is left.
/// </summary>
[Collection(ForkLab.Collection)]
public sealed class TreeMigrationFaultLabTests(ForkLab fixture)
{
    private TestLab Lab => fixture.Lab;

    /// <summary>Touches 96 MB (a move with pre-copy rounds long enough for many forks), then forks a child every 50 ms
    /// until told to stop; each child waits to be released and exits with its own number (mod 50); the parent reaps
    /// them all and counts the statuses that are not the child's.</summary>
    private const string Forker = """
        import os, sys, time
        stop, release = sys.argv[1], sys.argv[2]
        ballast = bytearray(96 << 20)
        for i in range(0, len(ballast), 4096): ballast[i] = 1
        print("ready", flush=True)
        children = {}
        while not os.path.exists(stop) and len(children) < 400:
            pid = os.fork()
            if pid == 0:
                while not os.path.exists(release): time.sleep(0.2)
                os._exit(len(children) % 50)
            children[pid] = len(children) % 50
            time.sleep(0.05)
        wrong = 0
        for pid, expected in children.items():
            _, status = os.waitpid(pid, 0)
            if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == expected): wrong += 1
        print(f"children {len(children)} wrong {wrong}", flush=True)
        """;

    [Fact]
    public void Children_born_while_their_parent_is_moved_are_managed_at_home_and_the_moved_parent_reaps_each_with_its_status()
    {
        using var markers = new TempDirectory("om-tree-fault");
        // Locked (and so its children) so that only the test moves anything.
        using var parent = Lab.Managed(1, "--lock", "python3", "-c", Forker, markers.File("stop"), markers.File("release"));
        parent.WaitForLines(1, TimeSpan.FromSeconds(60));
        var before = NodeFailureLabTests.ChildrenOf(parent.Pid).ToHashSet();

        Lab.Migrate(1, parent.Pid, "2");

        // Its children at home now that do not predate the move were forked by the process being moved.
        var bornDuring = NodeFailureLabTests.ChildrenOf(parent.Pid).Where(c => !before.Contains(c)).ToList();
        Assert.True(bornDuring.Count > 0, "the parent forked nothing while it was being moved");
        Assert.True(Row(1, parent.Pid) is { State: "remote", Where: 2 }, $"the parent is not on node 2: {Row(1, parent.Pid)}");
        Poll.Until(() => bornDuring.All(c => Row(1, c) is { } row && row.ParentPid == parent.Pid && row.Where == 1 && row.Locked),
            TimeSpan.FromSeconds(20), "every child born during the move to be managed at home as the parent's, locked like it");
        var guest = Lab.Processes(2).Processes.Single(p => p.State == "guest" && p.RemotePid == parent.Pid).Pid;
        // Forks of the copy on node 2 (remote forks) are its children there.
        Poll.Until(() => Lab.Processes(2).Processes.Any(p => p.ParentPid == guest), TimeSpan.FromSeconds(20), "the moved parent to fork on node 2");

        // Watched by pidfds while they wait for the release: once the parent has reaped them, their PIDs may name
        // other processes at once.
        using var children = new PidFds(before.Concat(bornDuring).Select(c => Watched.ProcessIfThere(c, p => Watched.ParentOf(p) == parent.Pid)));
        File.WriteAllText(markers.File("stop"), "");
        File.WriteAllText(markers.File("release"), "");
        Assert.Equal(0, parent.Process.WaitForExit(TimeSpan.FromSeconds(120)).Code);
        var summary = Assert.Single(parent.Lines(), l => l.StartsWith("children ", StringComparison.Ordinal));
        Assert.EndsWith(" wrong 0", summary, StringComparison.Ordinal);
        Assert.True(int.Parse(summary.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture) >= before.Count + bornDuring.Count, summary);

        NothingLeftOf(parent.Pid, [.. before, .. bornDuring], children);
        Poll.Until(() => !Lab.Processes(2).Processes.Any(p => p.Pid == guest || p.ParentPid == guest), TimeSpan.FromSeconds(20),
            "node 2 to forget the copy and the children it forked");
    }

    private ProcessRow? Row(int node, int pid) => Lab.Processes(node).Processes.FirstOrDefault(p => p.Pid == pid);

    /// <summary>No deputy, entry or zombie of the parent or of its children at home, none of them a guest elsewhere.</summary>
    private void NothingLeftOf(int parent, IReadOnlyCollection<int> children, PidFds watched)
    {
        Poll.Until(() => !Lab.Processes(1).Processes.Any(p => p.Pid == parent || children.Contains(p.Pid) || p.ParentPid == parent),
            TimeSpan.FromSeconds(20), "home to forget the parent and its children");
        Poll.Until(() => watched.NoneLeft, TimeSpan.FromSeconds(10), "no child left, zombie or not");
        foreach (var node in new[] { 2, 3, 4 })
            Assert.DoesNotContain(Lab.Processes(node).Processes, p => p.State == "guest" && p.RemotePid == parent);
    }
}
