using OpenMosix.Daemon.Migration;
using OpenMosix.Linux.Proc;

namespace OpenMosix.Daemon.Admin;

/// <summary>
/// om migrate --tree: a process of this node and its descendants moved together (<see cref="HomeMigration.MigrateTreeAsync"/>),
/// or, to home, each of them that runs away brought back. The tree is read from /proc when asked: the process, then
/// its descendants, parents first (a member away is its deputy here, whose children at home are members too); those
/// not managed yet are adopted, and given back if nothing moves.
/// </summary>
public sealed partial class AdminRoutes
{
    private HttpResponse MigrateTree(string text, byte[] body, PeerCredentials caller)
    {
        if (!TryMigration(text, body, out var pid, out var request, out var managed, out var refused)) return refused;
        if (managed is null && processes.ForkedAway.Find(pid) is { } forked)
            return HttpResponse.Error(409, $"process {pid} runs on node {forked.Node}, where a copy of this node's forked it; " +
                "a tree moves from the node its processes are the kernel's children of");
        var adopted = new List<ManagedProcess>();
        try
        {
            var (members, refusal) = TreeMembers(pid, caller, adopted);
            if (refusal is not null) return refusal;
            IReadOnlyList<MigrationResult> moved;
            if (request.Target == "home")
                moved = migration.BringTreeHomeAsync(members, request.Precopy).GetAwaiter().GetResult();
            else
            {
                var (atHome, elsewhere) = AtHomeOrThere(members, request.Target);
                if (elsewhere is not null) return HttpResponse.Error(409, elsewhere);
                if (atHome.Count == 0) return HttpResponse.Error(409, $"every process of the tree of process {pid} already runs on node {request.Target}");
                moved = migration.MigrateTreeAsync(atHome, request.Target, request.Precopy, CancellationToken.None).GetAwaiter().GetResult();
            }
            adopted.Clear();
            return HttpResponse.Json(new TreeMigrationResult(pid, moved[0].To, moved), AdminJsonContext.Default.TreeMigrationResult);
        }
        catch (Exception e) when (e is ArgumentException or MigrationException)
        {
            return HttpResponse.Error(e is ArgumentException ? 400 : 409, e.Message);
        }
        finally
        {
            // Adopted only to be moved: given back as they were when they did not move.
            foreach (var process in adopted.Where(p => p.State == ProcessState.Home)) processes.GiveBack(process);
        }
    }

    /// <summary>The process and its live descendants here, parents first, each managed (adopted if need be, into
    /// <paramref name="adopted"/>) and the caller's own unless root; or why not. A zombie is no member: it stays with
    /// its parent here (its deputy, once the parent is away, reaps it for it).</summary>
    private (List<ManagedProcess> Members, HttpResponse? Refusal) TreeMembers(int pid, PeerCredentials caller, List<ManagedProcess> adopted)
    {
        var members = new List<ManagedProcess>();
        foreach (var candidate in new[] { pid }.Concat(ProcessTable.Descendants(ProcessTable.ReadParents(), new HashSet<int> { pid }).Select(d => d.Pid)))
        {
            if (candidate != pid && ProcFs.HasEnded(candidate)) continue;
            var member = processes.Find(candidate);
            if (member is null)
            {
                if (AdoptionCheck.Refusal(candidate, caller.Uid) is { } refusal)
                {
                    // Exited since the listing above (a job's short `sleep`): a zombie, no member, as above.
                    if (candidate != pid && ProcFs.HasEnded(candidate)) continue;
                    return (members, HttpResponse.Error(RefusalStatus(refusal), candidate == pid ? refusal : $"process {candidate} of the tree of process {pid}: {refusal}"));
                }
                try
                {
                    member = processes.Adopt(candidate);
                }
                catch (InvalidOperationException e)
                {
                    if (candidate != pid && ProcFs.HasEnded(candidate)) continue;
                    return (members, HttpResponse.Error(409, e.Message));
                }
                adopted.Add(member);
            }
            if (!caller.IsRoot && caller.Uid != member.Uid)
                return (members, HttpResponse.Error(403, $"process {candidate} of the tree of process {pid} belongs to uid {member.Uid}; only its owner or root may move it"));
            members.Add(member);
        }
        return (members, null);
    }

    /// <summary>The members at home, which move; those already on the target stay there; one anywhere else, or on its
    /// way, refuses the whole tree with its node.</summary>
    private static (List<ManagedProcess> AtHome, string? Elsewhere) AtHomeOrThere(List<ManagedProcess> members, string target)
    {
        var atHome = new List<ManagedProcess>();
        foreach (var member in members)
        {
            if (member.State == ProcessState.Home) atHome.Add(member);
            else if (member.State == ProcessState.Remote && ushort.TryParse(target, NumberStyles.None, CultureInfo.InvariantCulture, out var node) && member.Where == node) continue;
            else
                return (atHome, $"the tree of process {members[0].Pid} stays here: process {member.Pid} is " +
                    (member.State == ProcessState.Remote ? $"on node {member.Where}; bring it home first (om migrate {member.Pid} home)" : member.State.ToString().ToLowerInvariant()));
        }
        return (atHome, null);
    }
}
