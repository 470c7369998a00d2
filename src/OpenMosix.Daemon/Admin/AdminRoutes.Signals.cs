using System.Text.Json;

namespace OpenMosix.Daemon.Admin;

/// <summary>om kill: a signal for a managed process of this node wherever it runs (its deputy relays it), or for one its
/// processes away forked on their nodes (over the link of the copy that forked it: remote fork).</summary>
public sealed partial class AdminRoutes
{
    private HttpResponse Signal(string text, byte[] body, PeerCredentials caller)
    {
        if (!TryPid(text, out var pid, out var notPid)) return notPid;
        if (JsonSerializer.Deserialize(body, AdminJsonContext.Default.SignalRequest) is not { } request)
            return HttpResponse.Error(400, "empty signal request");
        if (request.Signal is < 1 or > 64) return HttpResponse.Error(400, $"{request.Signal} is not a signal (1-64)");
        if (processes.Find(pid) is { } process)
        {
            if (process.State == ProcessState.Guest)
                return HttpResponse.Error(409, $"process {pid} runs here for node {process.Home}; signal it there (its PID there is {process.RemotePid})");
            if (Refused(caller, pid, process.Uid) is { } refused) return refused;
            var row = processes.Row(process);
            try
            {
                Signals.Kill(pid, request.Signal);
            }
            catch (ProcessAccessException e)
            {
                return HttpResponse.Error(404, $"process {pid}: {e.Message}");
            }
            return HttpResponse.Json(row, AdminJsonContext.Default.ProcessRow);
        }
        if (processes.ForkedAway.Find(pid) is not { } forked || processes.ForkedAway.Row(pid, processes.Self) is not { } shown)
            return HttpResponse.Error(404, $"process {pid} is not managed by openMosix on this node");
        if (Refused(caller, pid, (uint)forked.Child.Uid) is { } denied) return denied;
        return forked.Route.Signal(pid, request.Signal) is { } why
            ? HttpResponse.Error(409, $"process {pid} on node {forked.Node}: {why}")
            : HttpResponse.Json(shown, AdminJsonContext.Default.ProcessRow);
    }

    private static HttpResponse? Refused(PeerCredentials caller, int pid, uint uid) =>
        caller.IsRoot || caller.Uid == uid ? null : HttpResponse.Error(403, $"process {pid} belongs to uid {uid}; only its owner or root may signal it");
}
