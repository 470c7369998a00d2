using System.Collections.Concurrent;

namespace OpenMosix.Daemon.Migration;

/// <summary>
/// The guests running here, by their local PID, with how a move of each is asked of its home: through the session
/// that relays it, or through the relay of a copy this omd adopted from one that died (<see cref="Guest.GuestAdoption"/>).
/// How this node's balancer, mosctl expel, `om migrate` here and the drain at stop ask a guest's home to move it on.
/// </summary>
public sealed class GuestDirectory
{
    private readonly ConcurrentDictionary<int, Func<ushort, string, Task<string?>>> _guests = new();

    public void Add(int guestPid, GuestSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        Add(guestPid, (target, reason) => session.RequestMoveAsync(guestPid, target, reason));
    }

    /// <summary>Registers a guest by how a move of it is asked for: completes with null once it left, else why it
    /// stays. Registering it again replaces that (an adopted copy once its home resumed it).</summary>
    public void Add(int guestPid, Func<ushort, string, Task<string?>> requestMove) => _guests[guestPid] = requestMove;

    public void Remove(int guestPid) => _guests.TryRemove(guestPid, out _);

    /// <summary>
    /// Asks the guest's home to move it to <paramref name="target"/> (its home's id brings it home). Completes with
    /// null once the guest has left this node, or with the reason it stays: home could not move it, the link ended, or
    /// a request for it is already under way.
    /// </summary>
    public Task<string?> RequestMoveAsync(int guestPid, ushort target, string reason) =>
        _guests.TryGetValue(guestPid, out var requestMove)
            ? requestMove(target, reason)
            : Task.FromResult<string?>($"process {guestPid} is not a guest here");
}
