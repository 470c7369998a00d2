using System.Text.Json;
using OpenMosix.Daemon.Migration;
using OpenMosix.Linux.Proc;

namespace OpenMosix.Daemon.Admin;

/// <summary>om adopt and om release: any running process of this node handed to openMosix and given back; mosctl
/// manage: which are handed over by themselves.</summary>
public sealed partial class AdminRoutes
{
    private readonly ManageSettings _manage = manage ?? new ManageSettings(ManagePolicy.None);

    private ManageView ManageNow()
    {
        var policy = _manage.Current;
        return new ManageView(policy.Users, policy.Cgroups, policy.Programs);
    }

    private HttpResponse SetManage(byte[] body)
    {
        if (JsonSerializer.Deserialize(body, AdminJsonContext.Default.ManageView) is not { } view)
            return HttpResponse.Error(400, "empty [manage] policy");
        try
        {
            _manage.Current = new ManagePolicy(view.Users ?? [], view.Cgroups ?? [], view.Programs ?? [], UserDatabase.UidOf);
        }
        catch (ArgumentException e)
        {
            return HttpResponse.Error(400, e.Message.Split(" (Parameter", 2)[0]);
        }
        return HttpResponse.Json(ManageNow(), AdminJsonContext.Default.ManageView);
    }

    private HttpResponse Adopt(string text, byte[] body, PeerCredentials caller)
    {
        if (!TryPid(text, out var pid, out var notPid)) return notPid;
        var request = body.Length == 0 ? new AdoptRequest(false) : JsonSerializer.Deserialize(body, AdminJsonContext.Default.AdoptRequest);
        if (request is null) return HttpResponse.Error(400, "empty adoption request");
        if (processes.Find(pid) is { } known)
            return HttpResponse.Error(409, $"process {pid} is already managed ({(known.State == ProcessState.Guest ? "a guest" : known.State.ToString().ToLowerInvariant())})");
        if (AdoptionCheck.Refusal(pid, caller.Uid) is { } refusal) return HttpResponse.Error(RefusalStatus(refusal), refusal);
        List<ManagedProcess> adopted;
        try
        {
            adopted = [processes.Adopt(pid)];
        }
        catch (InvalidOperationException e)
        {
            return HttpResponse.Error(409, e.Message);
        }
        if (request.Tree)
        {
            var managed = new HashSet<int> { pid };
            foreach (var (child, parent) in ProcessTable.Descendants(ProcessTable.ReadParents(), managed))
            {
                // A descendant that is already managed, may not be adopted, or ended meanwhile, is left as it is.
                if (processes.Find(child) is not null || AdoptionCheck.Refusal(child, caller.Uid) is not null) continue;
                try
                {
                    adopted.Add(processes.Adopt(child, parent));
                }
                catch (InvalidOperationException)
                {
                }
            }
        }
        return HttpResponse.Json(new ProcessList(processes.Self, [.. adopted.Select(processes.Row)]), AdminJsonContext.Default.ProcessList);
    }

    private HttpResponse Release(string text, PeerCredentials caller)
    {
        if (!TryPid(text, out var pid, out var notPid)) return notPid;
        if (processes.Find(pid) is not { } process || process.State == ProcessState.Guest)
            return HttpResponse.Error(404, $"process {pid} is not managed by openMosix on this node");
        if (!caller.IsRoot && caller.Uid != process.Uid)
            return HttpResponse.Error(403, $"process {pid} belongs to uid {process.Uid}; only its owner or root may release it");
        if (process.State == ProcessState.Migrating) return HttpResponse.Error(409, $"process {pid} is moving; release it once it has arrived");
        if (process.State == ProcessState.Remote)
        {
            // Given back where it started: a process omd no longer manages cannot run on another node.
            try
            {
                migration.MoveAsync(process, "home", CancellationToken.None).GetAwaiter().GetResult();
            }
            catch (MigrationException e)
            {
                return HttpResponse.Error(409, $"process {pid} could not come home to be released: {e.Message}");
            }
        }
        var row = processes.Row(process);
        processes.ForgetEnded(process);
        return HttpResponse.Json(row with { State = "released" }, AdminJsonContext.Default.ProcessRow);
    }

    private static int RefusalStatus(string refusal) =>
        refusal.EndsWith("does not exist", StringComparison.Ordinal) ? 404 : refusal.Contains("only its owner", StringComparison.Ordinal) ? 403 : 409;
}
