using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration.Home;

/// <summary>
/// The node a process runs on asks to move it on (it balances, is short of memory, or expels its guests): home
/// brings it back, then sends it out again when the target is another node. If it cannot leave that node, the node
/// hears why (move-failed); if it came home but the target would not take it, it runs on at home.
/// </summary>
internal sealed class MoveOnRequests(HomeSide home, Func<ManagedProcess, Task> bringHome, Func<ManagedProcess, string, Task> move,
    Func<ulong, string?> noRoomFor)
{
    public async Task HandleAsync(ManagedProcess process, Conversation talk, MoveRequest request)
    {
        var from = process.Where;
        var target = (ushort)request.Target;
        HomeLog.MoveRequested(home.Logger, process.Pid, from, target, request.Reason);
        try
        {
            if (process.State != ProcessState.Remote)
                throw new MigrationException($"process {process.Pid} is {process.State.ToString().ToLowerInvariant()}");
            // It passes through here: on a node short of memory (often the one it was ushered from) the kernel would
            // kill it, or its deputy, while it is rebuilt. The gossiped figure the asking node went by may be old.
            if (noRoomFor((ulong)request.MemoryBytes) is { } full) throw new MigrationException(full);
            if (target == home.Self || target == 0) await bringHome(process).ConfigureAwait(false);
            else await move(process, target.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MigrationException or ArgumentException or TimeoutException or LinkException)
        {
            HomeLog.MoveOnFailed(home.Logger, process.Pid, target, e.Message);
            if (process.State != ProcessState.Remote || process.Where != from) return;
            try
            {
                await talk.SendAsync(new MoveFailed(e.Message)).ConfigureAwait(false);
            }
            catch (LinkException)
            {
                // The relay ended meanwhile: the guest's session ends with it.
            }
        }
    }
}
