using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using OpenMosix.Daemon.Migration;

namespace OpenMosix.Daemon.Admin;

/// <summary>
/// om migrate: a process of this node moved now. A client that asks for progress gets the move's steps as they
/// happen, one JSON line each, then its outcome (<see cref="MigrationEvents"/>); others get the outcome alone.
/// </summary>
public sealed partial class AdminRoutes
{
    private HttpResponse Migrate(string text, byte[] body, PeerCredentials caller)
    {
        if (!TryMigration(text, body, out var pid, out var request, out var process, out var refused)) return refused;
        var adoptedNow = false;
        // Listed here as forked away (remote fork): its node moves it, as one of its own.
        if (process is null && processes.ForkedAway.Find(pid) is { } forked) return MigrateForked(pid, forked, request, caller);
        if (process is null)
        {
            // Any process may move, as in openMosix: one not managed yet is adopted on the spot.
            if (AdoptionCheck.Refusal(pid, caller.Uid) is { } refusal) return HttpResponse.Error(RefusalStatus(refusal), refusal);
            try
            {
                process = processes.Adopt(pid);
            }
            catch (InvalidOperationException e)
            {
                return HttpResponse.Error(409, e.Message);
            }
            adoptedNow = true;
        }
        if (!caller.IsRoot && caller.Uid != process.Uid)
        {
            if (adoptedNow) processes.GiveBack(process);
            return HttpResponse.Error(403, $"process {pid} belongs to uid {process.Uid}; only its owner or root may move it");
        }
        if (!request.Progress) return Answer(Move(process, request, adoptedNow, null));
        return HttpResponse.Stream(MigrationEvents.MediaType,
            send => MigrationEvents.Line(Move(process, request, adoptedNow, new ProgressLines(send))),
            bug => MigrationEvents.Line(new MigrationEvent(Error: bug, Status: 500)));
    }

    /// <summary>What both om migrate routes read first: the PID, the request, and the process if this node manages it; a
    /// refusal where the text is no PID, the body no request, or the process a guest here (its home moves it).</summary>
    private bool TryMigration(string text, byte[] body, out int pid, [NotNullWhen(true)] out MigrateRequest? request,
        out ManagedProcess? process, [NotNullWhen(false)] out HttpResponse? refusal)
    {
        (request, process) = (null, null);
        if (!TryPid(text, out pid, out refusal)) return false;
        request = JsonSerializer.Deserialize(body, AdminJsonContext.Default.MigrateRequest);
        if (request is null) refusal = HttpResponse.Error(400, "empty migration request");
        else if ((process = processes.Find(pid)) is { State: ProcessState.Guest })
            refusal = HttpResponse.Error(404, $"process {pid} runs here for another node; move it from its home node");
        return refusal is null;
    }

    /// <summary>
    /// om migrate here of a process a copy of this node's forked on its node: that node (its birth node, where its parent
    /// waits for it and its deputy stays) is asked over the copy's link to move it to the target, "home" being that
    /// node. The answer is the move's result alone (no progress lines: the move runs there).
    /// </summary>
    private static HttpResponse MigrateForked(int pid, (IForkedRoute Route, ushort Node, ForkedAway.Forked Child) forked, MigrateRequest request,
        PeerCredentials caller)
    {
        if (!caller.IsRoot && caller.Uid != forked.Child.Uid)
            return HttpResponse.Error(403, $"process {pid} belongs to uid {forked.Child.Uid}; only its owner or root may move it");
        if (new Migration.Protocol.MoveForked(pid, request.Target).Problem() is not null)
            return HttpResponse.Error(400, $"'{request.Target}' is not a node id, home or balance");
        try
        {
            return HttpResponse.Json(forked.Route.MoveAsync(pid, request.Target, request.Precopy).GetAwaiter().GetResult(),
                AdminJsonContext.Default.MigrationResult);
        }
        catch (MigrationException e)
        {
            return HttpResponse.Error(409, $"process {pid} on node {forked.Node}: {e.Message}");
        }
    }

    /// <summary>The move's outcome: its result, or its error with the status a single answer gives it. A process
    /// adopted by this request (<paramref name="adoptedNow"/>) is given back as it was whenever it did not move, by a
    /// refusal or by any other failure (a /proc read, a syscall, the link, a bug: those still reach the admin server,
    /// which answers them in one line); one that was managed before, or that moved, stays managed.</summary>
    private MigrationEvent Move(ManagedProcess process, MigrateRequest request, bool adoptedNow, IProgress<MigrationProgress>? progress)
    {
        var moved = false;
        try
        {
            var postcopy = request.Postcopy is { } mode ? Migration.Postcopy.PostcopyChoice.Parse(mode) : (Migration.Postcopy.PostcopyMode?)null;
            var result = migration.MoveAsync(process, request.Target, CancellationToken.None, request.Precopy, progress, postcopy).GetAwaiter().GetResult();
            moved = true;
            return new MigrationEvent(Result: result);
        }
        catch (Exception e) when (e is ArgumentException or MigrationException)
        {
            return new MigrationEvent(Error: e.Message, Status: e is ArgumentException ? 400 : 409);
        }
        finally
        {
            if (adoptedNow && !moved) processes.GiveBack(process);
        }
    }

    private static HttpResponse Answer(MigrationEvent outcome) => outcome.Result is { } result
        ? HttpResponse.Json(result, AdminJsonContext.Default.MigrationResult)
        : HttpResponse.Error(outcome.Status, outcome.Error ?? "the move failed");

    /// <summary>Each step of a move as a line of the answer (the server keeps only the newest for a slow client).</summary>
    private sealed class ProgressLines(Action<byte[]> send) : IProgress<MigrationProgress>
    {
        public void Report(MigrationProgress value) => send(MigrationEvents.Line(new MigrationEvent(Progress: value)));
    }
}
