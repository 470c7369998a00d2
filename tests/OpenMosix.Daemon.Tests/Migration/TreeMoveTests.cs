using Microsoft.Extensions.Logging.Abstractions;
using OpenMosix.Admin;
using OpenMosix.Cluster.Transport;
using OpenMosix.Daemon.Migration;
using OpenMosix.Daemon.Migration.Protocol;
using OpenMosix.Daemon.Processes;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Migration;

/// <summary>
/// `om migrate --tree` at home: two real (idle) processes moved to node 2 together, the test speaking for node 2 on
/// each one's link. No member is committed before every copy is restored; one copy that fails leaves both at home,
/// thawed, and neither target is told to run its copy.
/// </summary>
public sealed class TreeMoveTests : IDisposable
{
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(20);
    private readonly System.Net.Sockets.Socket _listener = LinkPairs.Listen();
    private readonly FakeMigrationEngine _engine = new();
    private readonly ProcessRegistry _registry = new(1);
    private readonly ChildProcess _parent = ChildProcess.Start("/bin/sleep", ["60"]);
    private readonly ChildProcess _child = ChildProcess.Start("/bin/sleep", ["60"]);
    private readonly HomeMigration _home;

    public TreeMoveTests()
    {
        _home = new HomeMigration(_engine, _engine, _registry, () => 1, node => node == 2 ? LinkPairs.Endpoint(_listener) : null,
            () => new ClusterView(1, "127.0.0.1", "test", []), LinkPairs.Security(1), NullLogger.Instance) { Precopy = false, AllowRoot = true };
        _home.Start();
    }

    public void Dispose()
    {
        _parent.Dispose();
        _child.Dispose();
        _listener.Dispose();
    }

    [Fact]
    public async Task Every_member_is_committed_only_once_every_copy_is_restored_and_then_all_run_away()
    {
        var (parent, child) = (_registry.Register(_parent.Pid, 0), _registry.Register(_child.Pid, 0));
        var move = _home.MigrateTreeAsync([parent, child], 2, null, TestContext.Current.CancellationToken);
        var links = await TakeBothImagesAsync();

        await MessageWire.SendAsync(links[_parent.Pid], new Restored(4001, [], false), TestContext.Current.CancellationToken);
        var firstCommit = MessageWire.ReceiveAsync<Commit>(links[_parent.Pid], Answer);
        // The parent's copy is restored, the child's not yet: the parent waits for it, neither running nor thawed.
        await Task.Delay(300, TestContext.Current.CancellationToken);
        Assert.False(firstCommit.IsCompleted);
        Assert.DoesNotContain($"thaw {_parent.Pid}", _engine.Calls);

        await MessageWire.SendAsync(links[_child.Pid], new Restored(4002, [], false), TestContext.Current.CancellationToken);
        await firstCommit;
        await MessageWire.ReceiveAsync<Commit>(links[_child.Pid], Answer);
        foreach (var link in links.Values) await MessageWire.SendAsync(link, new Running(), TestContext.Current.CancellationToken);
        var results = await move.WaitAsync(Answer, TestContext.Current.CancellationToken);

        Assert.Equal([(_parent.Pid, 4001), (_child.Pid, 4002)], results.Select(r => (r.Pid, r.RemotePid)));
        Assert.All([parent, child], p => Assert.Equal((ProcessState.Remote, (ushort)2), (p.State, p.Where)));
        Assert.Contains($"make-deputy {_parent.Pid}", _engine.Calls);
        Assert.Contains($"make-deputy {_child.Pid}", _engine.Calls);
        foreach (var link in links.Values) await link.DisposeAsync();
    }

    [Fact]
    public async Task A_copy_that_cannot_be_restored_leaves_every_member_at_home_thawed_and_no_copy_committed()
    {
        var (parent, child) = (_registry.Register(_parent.Pid, 0), _registry.Register(_child.Pid, 0));
        var move = _home.MigrateTreeAsync([parent, child], 2, null, TestContext.Current.CancellationToken);
        var links = await TakeBothImagesAsync();

        await MessageWire.SendAsync(links[_parent.Pid], new Restored(4001, [], false), TestContext.Current.CancellationToken);
        await MessageWire.SendAsync(links[_child.Pid], new Failed("out of memory"), TestContext.Current.CancellationToken);

        var error = await Assert.ThrowsAsync<MigrationException>(() => move.WaitAsync(Answer, TestContext.Current.CancellationToken));
        Assert.Equal($"the tree of process {_parent.Pid} stays here, every process running on: process {_child.Pid}: " +
            $"node 2 could not restore process {_child.Pid}: out of memory", error.Message);
        // The parent's target hears no commit: its link just ends, and it drops the copy it restored.
        Assert.Null(await links[_parent.Pid].ReceiveAsync(TestContext.Current.CancellationToken).WaitAsync(Answer, TestContext.Current.CancellationToken));
        Assert.All([parent, child], p => Assert.Equal(ProcessState.Home, p.State));
        Assert.Contains($"thaw {_parent.Pid}", _engine.Calls);
        Assert.Contains($"thaw {_child.Pid}", _engine.Calls);
        Assert.DoesNotContain(_engine.Calls, c => c.StartsWith("make-deputy", StringComparison.Ordinal));
        foreach (var link in links.Values) await link.DisposeAsync();
    }

    [Fact]
    public async Task A_target_that_refuses_one_member_keeps_the_other_from_being_frozen()
    {
        var (parent, child) = (_registry.Register(_parent.Pid, 0), _registry.Register(_child.Pid, 0));
        var move = _home.MigrateTreeAsync([parent, child], 2, null, TestContext.Current.CancellationToken);
        var links = new Dictionary<int, NodeLink>();
        for (var i = 0; i < 2; i++)
        {
            var link = await LinkPairs.AcceptAsync(_listener, 2).WaitAsync(Answer, TestContext.Current.CancellationToken);
            links[(await MessageWire.ReceiveAsync<Offer>(link, Answer)).Pid] = link;
        }
        await MessageWire.SendAsync(links[_parent.Pid], new Accept(), TestContext.Current.CancellationToken);
        await MessageWire.SendAsync(links[_child.Pid], new Refuse("no room"), TestContext.Current.CancellationToken);

        var error = await Assert.ThrowsAsync<MigrationException>(() => move.WaitAsync(Answer, TestContext.Current.CancellationToken));
        Assert.True(error.Refused);
        Assert.Contains($"node 2 refused process {_child.Pid}: no room", error.Message, StringComparison.Ordinal);
        // The accepted member never got to its freeze: no image was taken of either.
        Assert.Null(await links[_parent.Pid].ReceiveAsync(TestContext.Current.CancellationToken).WaitAsync(Answer, TestContext.Current.CancellationToken));
        Assert.DoesNotContain(_engine.Calls, c => c.StartsWith("checkpoint", StringComparison.Ordinal));
        Assert.All([parent, child], p => Assert.Equal(ProcessState.Home, p.State));
        foreach (var link in links.Values) await link.DisposeAsync();
    }

    [Fact]
    public async Task A_link_that_breaks_after_one_member_s_image_leaves_every_member_at_home_thawed()
    {
        var (parent, child) = (_registry.Register(_parent.Pid, 0), _registry.Register(_child.Pid, 0));
        var move = _home.MigrateTreeAsync([parent, child], 2, null, TestContext.Current.CancellationToken);
        var links = await TakeBothImagesAsync();
        await MessageWire.SendAsync(links[_parent.Pid], new Restored(4001, [], false), TestContext.Current.CancellationToken);
        // The child's target goes away before it says whether it restored its copy.
        await links[_child.Pid].DisposeAsync();

        var error = await Assert.ThrowsAsync<MigrationException>(() => move.WaitAsync(Answer, TestContext.Current.CancellationToken));
        Assert.StartsWith($"the tree of process {_parent.Pid} stays here, every process running on: process {_child.Pid}: ", error.Message, StringComparison.Ordinal);
        Assert.Null(await links[_parent.Pid].ReceiveAsync(TestContext.Current.CancellationToken).WaitAsync(Answer, TestContext.Current.CancellationToken));
        Assert.All([parent, child], p => Assert.Equal(ProcessState.Home, p.State));
        Assert.Contains($"thaw {_parent.Pid}", _engine.Calls);
        Assert.DoesNotContain(_engine.Calls, c => c.StartsWith("make-deputy", StringComparison.Ordinal));
        await links[_parent.Pid].DisposeAsync();
    }

    [Fact]
    public async Task A_member_with_a_live_child_outside_the_tree_once_all_are_frozen_keeps_the_whole_tree_home()
    {
        // A shell whose job was forked after the tree was read: the job is no member, so the shell must not leave it.
        using var shell = ChildProcess.Start("/bin/bash", ["-c", "sleep 60 & wait"]);
        Poll.Until(() => Linux.Proc.ProcFs.ReadChildren(shell.Pid).Count == 1, Answer, "the shell to fork its job");
        var job = Linux.Proc.ProcFs.ReadChildren(shell.Pid)[0];
        var (parent, child) = (_registry.Register(shell.Pid, 0), _registry.Register(_child.Pid, 0));
        var move = _home.MigrateTreeAsync([parent, child], 2, null, TestContext.Current.CancellationToken);
        var links = await TakeBothImagesAsync();
        await MessageWire.SendAsync(links[shell.Pid], new Restored(4001, [], false), TestContext.Current.CancellationToken);
        await MessageWire.SendAsync(links[_child.Pid], new Restored(4002, [], false), TestContext.Current.CancellationToken);

        var error = await Assert.ThrowsAsync<MigrationException>(() => move.WaitAsync(Answer, TestContext.Current.CancellationToken));
        Assert.Equal($"the tree of process {shell.Pid} stays here, every process running on: process {shell.Pid} forked process {job} while the tree was being moved",
            error.Message);
        foreach (var link in links.Values)
        {
            Assert.Null(await link.ReceiveAsync(TestContext.Current.CancellationToken).WaitAsync(Answer, TestContext.Current.CancellationToken));
            await link.DisposeAsync();
        }
        Assert.All([parent, child], p => Assert.Equal(ProcessState.Home, p.State));
        Assert.DoesNotContain(_engine.Calls, c => c.StartsWith("make-deputy", StringComparison.Ordinal));
        using var orphan = System.Diagnostics.Process.GetProcessById(job);
        orphan.Kill();
    }

    [Theory]
    [InlineData(10_000, 20_000)] // the defaults: 30 s of the target's patience less a 10 s link timeout
    [InlineData(4_000, 26_000)]
    [InlineData(100, 29_000)] // a margin of at least 1 s, for home's own scheduling
    [InlineData(60_000, 15_000)] // a link timeout beyond the patience bounds nothing: half of it is kept
    public void The_members_wait_for_each_other_the_target_s_patience_less_one_link_timeout(int linkTimeoutMs, int expectedMs)
    {
        var wait = HomeMigration.TreeWaitFor(TimeSpan.FromMilliseconds(linkTimeoutMs));
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), wait);
        Assert.True(wait < GuestSession.AnswerTimeout);
    }

    [Fact]
    public void A_node_s_configured_link_timeout_sets_how_long_its_tree_members_wait_for_each_other()
    {
        var configured = new HomeMigration(_engine, _engine, _registry, () => 1, _ => null, () => new ClusterView(1, "127.0.0.1", "test", []),
            LinkPairs.Security(1), NullLogger.Instance) { Liveness = new LinkLiveness(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5)) };
        Assert.Equal(TimeSpan.FromSeconds(25), configured.TreeWait);
        Assert.Equal(TimeSpan.FromSeconds(20), _home.TreeWait); // no liveness configured: the default link timeout's
    }

    /// <summary>Accepts both members' links, each identified by its offer, and takes each one's final image.</summary>
    private async Task<Dictionary<int, NodeLink>> TakeBothImagesAsync()
    {
        var links = new Dictionary<int, NodeLink>();
        for (var i = 0; i < 2; i++)
        {
            var link = await LinkPairs.AcceptAsync(_listener, 2).WaitAsync(Answer, TestContext.Current.CancellationToken);
            links[(await MessageWire.ReceiveAsync<Offer>(link, Answer)).Pid] = link;
        }
        foreach (var link in links.Values) await MessageWire.SendAsync(link, new Accept(), TestContext.Current.CancellationToken);
        foreach (var link in links.Values)
        {
            await MessageWire.ReceiveAsync<Final>(link, Answer);
            while (await link.ReceiveAsync(TestContext.Current.CancellationToken) is { Type: FrameType.Image })
            {
            }
        }
        return links;
    }
}
