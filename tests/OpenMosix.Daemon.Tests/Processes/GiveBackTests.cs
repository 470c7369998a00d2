using OpenMosix.Daemon.Processes;

namespace OpenMosix.Daemon.Tests.Processes;

/// <summary>
/// ProcessRegistry.GiveBack, for a process adopted only to be moved whose move did not happen: it and what it forked
/// meanwhile leave the registry, but only while it is at home, and a fork read while it is given back registers no
/// child of it. PIDs past pid_max: no real process answers under them, only the start times given here.
/// </summary>
public sealed class GiveBackTests
{
    private const int Parent = 5_000_101, Child = 5_000_102;
    private readonly Dictionary<int, ulong> _started = new() { [Parent] = 100, [Child] = 110 };
    private readonly ProcessRegistry _registry;

    /// <summary>Run when the registry reads a start time, as the tracker's registration of a fork does before it
    /// takes the registry's lock: what another thread does in that moment.</summary>
    private Action<int>? _whileReading;

    public GiveBackTests() => _registry = new ProcessRegistry(1, pid =>
    {
        _whileReading?.Invoke(pid);
        return _started.TryGetValue(pid, out var t) ? t : null;
    });

    [Fact]
    public void A_process_at_home_is_given_back_with_the_children_it_forked_meanwhile()
    {
        var parent = _registry.Register(Parent, 0);
        Assert.NotNull(_registry.RegisterChild(Child, Parent));

        _registry.GiveBack(parent);

        Assert.Null(_registry.Find(Parent));
        Assert.Null(_registry.Find(Child));
    }

    [Theory]
    [InlineData(ProcessState.Remote)]
    [InlineData(ProcessState.Migrating)]
    public void A_process_that_moved_or_is_moving_is_not_given_back_nor_are_its_children_at_home(ProcessState state)
    {
        var parent = _registry.Register(Parent, 0);
        var child = _registry.RegisterChild(Child, Parent);
        _registry.Update(parent, p => p.State = state);

        _registry.GiveBack(parent);

        Assert.Same(parent, _registry.Find(Parent));
        Assert.Same(child, _registry.Find(Child));
    }

    [Fact]
    public void A_fork_whose_parent_is_given_back_while_the_fork_is_registered_leaves_no_managed_child()
    {
        var parent = _registry.Register(Parent, 0);
        // The tracker found the parent managed; before it takes the lock to register the child, the move the parent
        // was adopted for fails and the parent is given back (its children collected: none yet).
        _whileReading = pid =>
        {
            if (pid != Child) return;
            _whileReading = null;
            _registry.GiveBack(parent);
        };

        Assert.Null(_registry.RegisterChild(Child, Parent));

        Assert.Null(_registry.Find(Parent));
        Assert.Null(_registry.Find(Child));
        Assert.Empty(_registry.List().Processes);
    }

    [Fact]
    public void A_fork_read_after_its_parent_was_given_back_registers_nothing()
    {
        var parent = _registry.Register(Parent, 0);
        _registry.GiveBack(parent);

        Assert.Null(_registry.RegisterForked(Child, Parent));
        Assert.Null(_registry.Find(Child));
    }
}
