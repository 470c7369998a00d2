using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Linux.Tests;

/// <summary>Parents and children of processes, from /proc and from a table of parents.</summary>
public sealed class ProcessTreeTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static char StateOf(int pid) => ProcFs.ReadStat(pid).State;

    /// <summary>A shell that starts `true` and `sleep 60` in the background, then becomes `sleep 61`, which never
    /// waits: `true` stays a zombie child of it.</summary>
    private static ChildProcess StartParentOfAZombieAndASleeper()
    {
        var parent = ChildProcess.Start("/bin/sh", ["-c", "/bin/true & /bin/sleep 60 & exec /bin/sleep 61"]);
        // The sleeper asleep too: on a loaded machine it may still be runnable, on its way into sleep's nanosleep.
        Poll.Until(() => ProcFs.ReadCommandLine(parent.Pid).Contains("61") && ProcFs.ReadChildren(parent.Pid) is { Count: 2 } children
            && children.Select(StateOf).Order().SequenceEqual(['S', 'Z']), Patience, "two children, one of them a zombie, the other asleep");
        return parent;
    }

    [Fact]
    public void Children_of_a_process_include_the_zombie_it_has_not_waited_for()
    {
        using var parent = StartParentOfAZombieAndASleeper();
        var children = ProcFs.ReadChildren(parent.Pid);
        Assert.Equal(['S', 'Z'], children.Select(StateOf).Order());
        Assert.All(children, c => Assert.Equal(parent.Pid, ProcFs.ReadStat(c).PPid));
        Signals.Kill(-parent.Pid, Signals.SIGKILL); // the whole group: the background sleep too
    }

    [Fact]
    public void A_process_without_children_has_none()
    {
        using var sleeper = ChildProcess.Start("/bin/sleep", ["62"]);
        Assert.Empty(ProcFs.ReadChildren(sleeper.Pid));
    }

    [Fact]
    public void The_children_of_a_process_that_is_gone_are_none()
    {
        var gone = ChildProcess.Start("/bin/true", []);
        gone.WaitForExit(Patience);
        gone.Dispose();
        Assert.Empty(ProcFs.ReadChildren(gone.Pid));
    }

    [Fact]
    public void The_table_of_parents_holds_a_child_of_this_process_under_this_process()
    {
        using var child = ChildProcess.Start("/bin/sleep", ["63"]);
        var parents = ProcessTable.ReadParents();
        Assert.Equal(Environment.ProcessId, parents[child.Pid]);
        Assert.Equal(0, parents[1]);
    }

    [Fact]
    public void Descendants_come_parents_first_in_breadth_order_without_the_roots()
    {
        var parents = new Dictionary<int, int> { [1] = 0, [10] = 1, [12] = 11, [11] = 10, [13] = 10, [14] = 12, [20] = 1, [21] = 20 };
        Assert.Equal([(11, 10), (13, 10), (12, 11), (14, 12)], ProcessTable.Descendants(parents, new HashSet<int> { 10 }));
    }

    [Fact]
    public void A_root_below_another_root_is_not_a_descendant_but_its_children_are()
    {
        var parents = new Dictionary<int, int> { [10] = 1, [11] = 10, [12] = 11, [13] = 10 };
        var found = ProcessTable.Descendants(parents, new HashSet<int> { 10, 11 });
        Assert.Equal([(12, 11), (13, 10)], found.Order());
    }

    [Fact]
    public void Every_parent_is_listed_before_its_children_however_the_table_is_ordered()
    {
        // A deep chain given leaf first, with a fan at every level.
        var parents = new Dictionary<int, int>();
        for (var depth = 50; depth >= 1; depth--)
        {
            parents[depth * 10] = (depth - 1) * 10;
            parents[depth * 10 + 1] = (depth - 1) * 10;
        }
        var found = ProcessTable.Descendants(parents, new HashSet<int> { 0 });
        Assert.Equal(100, found.Count);
        var position = found.Select((f, i) => (f.Pid, i)).ToDictionary(p => p.Pid, p => p.i);
        Assert.All(found, f => Assert.True(f.Parent == 0 || position[f.Parent] < position[f.Pid], $"{f.Pid} before its parent {f.Parent}"));
    }

    [Fact]
    public void Cycles_and_processes_that_are_their_own_parent_end_the_walk()
    {
        var parents = new Dictionary<int, int> { [5] = 6, [6] = 5, [7] = 7, [8] = 7, [9] = 8 };
        Assert.Equal([(6, 5)], ProcessTable.Descendants(parents, new HashSet<int> { 5 }));
        Assert.Equal([(8, 7), (9, 8)], ProcessTable.Descendants(parents, new HashSet<int> { 7 }));
        Assert.Equal([(9, 8), (7, 9)], ProcessTable.Descendants(new Dictionary<int, int> { [7] = 9, [9] = 8, [8] = 7 }, new HashSet<int> { 8 }));
    }

    [Fact]
    public void Roots_missing_from_the_table_or_without_children_give_nothing()
    {
        var parents = new Dictionary<int, int> { [10] = 1 };
        Assert.Empty(ProcessTable.Descendants(parents, new HashSet<int> { 10, 99 }));
        Assert.Empty(ProcessTable.Descendants(parents, new HashSet<int>()));
    }
}
