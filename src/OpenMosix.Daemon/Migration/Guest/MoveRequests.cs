using OpenMosix.Daemon.Migration.Protocol;
using OpenMosix.Linux.Proc;

namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>
/// This node asks a guest's home to move it on, one request at a time. A request ends with null when the guest has
/// left, or with why it stays: home answered move-failed, the link ended, or another request was under way.
/// </summary>
internal sealed class MoveRequests(Conversation talk)
{
    private readonly Lock _gate = new();
    private TaskCompletionSource<string?>? _open;

    public async Task<string?> RequestAsync(int guestPid, ushort target, string reason)
    {
        long resident;
        try
        {
            resident = ProcFs.ReadResidentBytes(guestPid);
        }
        catch (IOException)
        {
            resident = 0; // gone meanwhile: home finds that out itself
        }
        TaskCompletionSource<string?> request;
        lock (_gate)
        {
            if (_open is not null) return "a move of it is already under way";
            request = _open = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        try
        {
            await talk.SendAsync(new MoveRequest(target, reason, resident)).ConfigureAwait(false);
        }
        catch (LinkException e)
        {
            End(e.Message);
        }
        return await request.Task.ConfigureAwait(false);
    }

    /// <summary>The open request, if any, ends: null when the guest left, else why it stays.</summary>
    public void End(string? outcome)
    {
        TaskCompletionSource<string?>? request;
        lock (_gate)
        {
            request = _open;
            _open = null;
        }
        request?.TrySetResult(outcome);
    }
}
