using System.Collections.Concurrent;

namespace OpenMosix.Daemon.Migration;

/// <summary>
/// The guests running here, by their local PID, with the session that relays each to its home: how this node's
/// balancer and mosctl expel ask a guest's home to move it on.
/// </summary>
public sealed class GuestDirectory
{
    private readonly ConcurrentDictionary<int, GuestSession> _sessions = new();

    public void Add(int guestPid, GuestSession session) => _sessions[guestPid] = session;

    public void Remove(int guestPid) => _sessions.TryRemove(guestPid, out _);

    /// <summary>
    /// Asks the guest's home to move it to <paramref name="target"/> (its home's id brings it home). Completes with
    /// null once the guest has left this node, or with the reason it stays: home could not move it, the link ended, or
    /// a request for it is already under way.
    /// </summary>
    public Task<string?> RequestMoveAsync(int guestPid, ushort target, string reason) =>
        _sessions.TryGetValue(guestPid, out var session)
            ? session.RequestMoveAsync(guestPid, target, reason)
            : Task.FromResult<string?>($"process {guestPid} is not a guest here");
}
