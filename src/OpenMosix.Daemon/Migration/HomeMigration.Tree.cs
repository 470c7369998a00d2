using OpenMosix.Daemon.Migration.Home;
using OpenMosix.Daemon.Migration.Postcopy;

namespace OpenMosix.Daemon.Migration;

/// <summary>
/// `om migrate --tree`: a process and its descendants at home move to one node together, all or nothing. Each member
/// moves as a single process does, over a link of its own, and keeps its deputy here (its PID, its parent, its place in
/// its group and session, the shell's `wait` and signals); the moves are held together (<see cref="TreeGate"/>): every
/// member is frozen only once every pre-copy is done, and committed only once every copy is restored on the target and
/// no member forked meanwhile. Until then any failure (a member that cannot move or ends, the target refusing one, a
/// link breaking) lets every member run on here. On the target the copies are not one another's kernel children: a
/// parent's waits, kills and getppid about its children are carried out by its deputy here, whose children their
/// deputies are (the forwarding of a parent away, docs/migration.md).
/// </summary>
public sealed partial class HomeMigration
{
    /// <summary>How long a member waits at either point of the gate for the others (<see cref="TreeWaitFor"/> of this
    /// node's link timeout).</summary>
    public TimeSpan TreeWait => TreeWaitFor(Liveness?.Timeout ?? LinkLiveness.DefaultTimeout);

    /// <summary>
    /// How long a tree's member may wait at the gate for the others, given the link timeout: a target waits
    /// <see cref="GuestSession.AnswerTimeout"/> for home's next word (the final image, the commit) after its last
    /// answer, and the word home sends once the gate opens may take up to a link timeout to arrive on a link still
    /// live (longer, and the link is dead and both ends drop the move). So the wait is the target's patience less one
    /// link timeout: a target never gives up on a member home still means to move. The margin is at least 1 s (home's
    /// own scheduling under load, with a very short link timeout) and at most half the patience (a link timeout as
    /// long as the patience or longer is no bound on the word's delay, and the members still get a while to meet).
    /// The defaults (30 s, 10 s) give 20 s.
    /// </summary>
    public static TimeSpan TreeWaitFor(TimeSpan linkTimeout)
    {
        var patience = GuestSession.AnswerTimeout;
        var margin = TimeSpan.FromTicks(Math.Clamp(linkTimeout.Ticks, TimeSpan.FromSeconds(1).Ticks, patience.Ticks / 2));
        return patience - margin;
    }

    /// <summary>
    /// Moves <paramref name="members"/> (a process at home first, then its descendants at home) to
    /// <paramref name="target"/>, a node id or "balance". All or nothing: on any failure before the commit every
    /// member runs on here and the first failure is thrown (<see cref="MigrationException"/>).
    /// </summary>
    public async Task<IReadOnlyList<MigrationResult>> MigrateTreeAsync(IReadOnlyList<ManagedProcess> members, string target, bool? precopy,
        CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(target);
        if (members.Count == 0) throw new ArgumentException("no process to move", nameof(members));
        return await MigrateTreeAsync(members, OutwardNode(members[0], target), precopy, cancel).ConfigureAwait(false);
    }

    /// <inheritdoc cref="MigrateTreeAsync(IReadOnlyList{ManagedProcess}, string, bool?, CancellationToken)"/>
    internal async Task<IReadOnlyList<MigrationResult>> MigrateTreeAsync(IReadOnlyList<ManagedProcess> members, ushort node, bool? precopy,
        CancellationToken cancel)
    {
        var root = members[0];
        // Refused as a whole before any link is opened: the first member that cannot move now names the reason.
        foreach (var member in members)
            if (OutwardRefusal(member, node) is { } refused)
                throw new MigrationException($"the tree of process {root.Pid} stays here: {refused.Message}") { Refused = true };
        var pids = members.Select(m => m.Pid).ToHashSet();
        var gate = new TreeGate(members.Count, TreeWait) { AllFrozenCheck = () => TreeStrangers(pids) };
        var moves = members.Select(member => MoveMemberAsync(member, node, gate, precopy, cancel)).ToList();
        try
        {
            await Task.WhenAll(moves).ConfigureAwait(false);
        }
        catch (Exception) when (moves.Any(m => m.IsFaulted))
        {
            var moved = moves.Where(m => m.IsCompletedSuccessfully).Select(m => m.Result.Pid).ToList();
            var why = gate.Failure ?? moves.First(m => m.IsFaulted).Exception!.InnerException!.Message;
            HomeLog.TreeStayed(_home.Logger, root.Pid, node, why);
            // After the commit a member's failure is a single move's (its copy or its original runs); said as it is.
            if (moved.Count > 0)
                throw new MigrationException($"the tree of process {root.Pid} moved to node {node} but for some members: {why} " +
                    $"(moved: {string.Join(", ", moved)})");
            throw new MigrationException($"the tree of process {root.Pid} stays here, every process running on: {why}")
            { Refused = moves.All(m => m.Exception?.InnerException is MigrationException { Refused: true }) };
        }
        return [.. moves.Select(m => m.Result)];
    }

    /// <summary>One member's move, held by <paramref name="gate"/>; its failure fails the gate for every member. No
    /// second try for a member that exec'd during its pre-copy (a single move's retry): the others would wait for it.
    /// No post-copy: a member's original must be a deputy as soon as it is committed.</summary>
    private async Task<MigrationResult> MoveMemberAsync(ManagedProcess member, ushort node, TreeGate gate, bool? precopy, CancellationToken cancel)
    {
        try
        {
            await Task.Yield();
            return await Reported(member, node, async () =>
            {
                await WaitForExecAsync(member).ConfigureAwait(false);
                return await MigrateOnceAsync(member, node, cancel, precopy, null, PostcopyMode.Never, gate).ConfigureAwait(false);
            }).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            gate.Fail($"process {member.Pid}: {e.Message}");
            throw;
        }
    }

    /// <summary>The node a process at home is to move to: a node id or "balance", alive, and not this node.</summary>
    private ushort OutwardNode(ManagedProcess process, string target)
    {
        var view = _viewOf();
        ushort node;
        if (target == "balance")
            node = Placement.LeastLoaded(view) ?? throw new MigrationException("no other node is alive to balance to");
        else if (!ushort.TryParse(target, NumberStyles.None, CultureInfo.InvariantCulture, out node) || node == 0)
            throw new ArgumentException($"'{target}' is not a node id, home or balance");
        if (node == _home.Self) throw new MigrationException($"process {process.Pid} already runs on node {node}") { Refused = true };
        if (view.Nodes.FirstOrDefault(n => n.Id == node) is not { } entry)
            throw new MigrationException($"node {node} is not in the map");
        if (!Placement.IsAlive(view, node))
            throw new MigrationException($"node {node} is {entry.State.Name()}");
        return node;
    }

    /// <summary>
    /// Once every member is frozen: a member that has a live child outside the tree forked it during the move (the
    /// tree was listed before), and moving the parent would leave it behind, so the tree stays; a zombie stays with
    /// its parent's deputy, which reaps it for the parent (a parent away's waits). Null when the tree is whole.
    /// </summary>
    private static string? TreeStrangers(IReadOnlySet<int> members)
    {
        foreach (var pid in members)
            foreach (var child in Linux.Proc.ProcFs.ReadChildren(pid))
            {
                if (members.Contains(child) || Linux.Proc.ProcFs.HasEnded(child)) continue;
                return $"process {pid} forked process {child} while the tree was being moved";
            }
        return null;
    }

    /// <summary>
    /// `om migrate --tree PID home`: each of <paramref name="members"/> that runs away comes home, one after the
    /// other, each all or nothing on its own (its copy runs on where it was if it cannot come); a member at home is
    /// where it belongs whatever the others do. Returns those that came; throws naming those that could not.
    /// </summary>
    public async Task<IReadOnlyList<MigrationResult>> BringTreeHomeAsync(IReadOnlyList<ManagedProcess> members, bool? precopy)
    {
        ArgumentNullException.ThrowIfNull(members);
        var brought = new List<MigrationResult>();
        var failed = new List<string>();
        // Children first: a parent away that still has children on its node cannot leave them (LeavesChildren).
        foreach (var member in members.Reverse().Where(m => m.State == ProcessState.Remote))
        {
            try
            {
                brought.Add(await BringHomeAsync(member, precopy).ConfigureAwait(false));
            }
            catch (MigrationException e)
            {
                failed.Add($"process {member.Pid}: {e.Message}");
            }
        }
        if (failed.Count > 0)
            throw new MigrationException($"{string.Join("; ", failed)} (brought home: {(brought.Count == 0 ? "none" : string.Join(", ", brought.Select(b => b.Pid)))})");
        if (brought.Count == 0)
            throw new MigrationException($"no process of the tree of process {members[0].Pid} runs away") { Refused = true };
        return brought;
    }
}
