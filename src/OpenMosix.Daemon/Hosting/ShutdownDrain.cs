using System.Diagnostics;
using OpenMosix.Daemon.Migration;

namespace OpenMosix.Daemon.Hosting;

/// <summary>
/// What omd does before it stops, so that a restart or an upgrade loses no process: its own processes running away
/// come home (pre-copied, as `mosctl bring`) and its guests are sent home (as `mosctl expel`), a few at a time, within
/// shutdown.drain_timeout_ms. The gate is closed first, so nothing leaves or arrives meanwhile; a move out already
/// under way is waited for and then brought back. Whatever is still away at the end is lost (its deputy dies with
/// omd), and a guest still here is killed (its home loses it: never two copies): one log line each, with why; but a
/// guest adopted from an omd that died is left stopped to its keeper instead, for the next omd to adopt again.
/// </summary>
public sealed partial class ShutdownDrain(HomeMigration migration, ProcessRegistry registry, GuestDirectory guests, StopGate gate, ILogger logger)
{
    /// <summary>Trips under way at once: enough to overlap one trip's waits with another's copying, few enough that
    /// the node's one tracer thread and its link are not shared too thinly for any of them to finish in time.</summary>
    public const int Concurrency = 4;

    /// <summary>Tries per process: a trip that failed may go through a moment later (a request of the balancer's
    /// was still under way, a link was being replaced), while the bound allows.</summary>
    public const int Tries = 3;

    private static readonly TimeSpan LookAgain = TimeSpan.FromMilliseconds(100);

    /// <summary>Guests no home can be asked for yet (adopted from a dead omd, waiting, stopped, for their home to
    /// resume them): not sent home, left to their keeper for the next omd.</summary>
    public Func<int, bool> Waiting { get; init; } = _ => false;

    /// <summary>Guests that are left to their keeper for the next omd, rather than killed, when they could not be
    /// sent home (adopted from a dead omd: a keeper holds them, and their home resumes them from the next omd).</summary>
    public Func<int, bool> LeftToKeeper { get; init; } = _ => false;

    private List<ManagedProcess> Guests() => [.. registry.Guests().Where(g => !Waiting(g.Pid))];

    public async Task RunAsync(TimeSpan bound, CancellationToken immediate)
    {
        gate.Close();
        var clock = Stopwatch.StartNew();
        if (bound <= TimeSpan.Zero)
        {
            LogNoDrain(logger, registry.Away().Count, Guests().Count);
            _ = LoseTheRest(new Dictionary<ManagedProcess, Task<string?>>(), "the drain is off (shutdown.drain_timeout_ms = 0)", out _);
            return;
        }
        LogDraining(logger, registry.Away().Count, Guests().Count, bound.TotalSeconds);
        var moves = new Dictionary<ManagedProcess, Task<string?>>();
        var tries = new Dictionary<ManagedProcess, int>();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(immediate);
        deadline.CancelAfter(bound);
        // Not disposed: a trip still under way when the drain gives up releases its slot later.
        var slots = new SemaphoreSlim(Concurrency);
        while (!deadline.IsCancellationRequested)
        {
            foreach (var process in registry.Away())
                Start(process, () => BringHomeAsync(process));
            foreach (var guest in Guests())
                Start(guest, () => SendHomeAsync(guest));
            var open = moves.Values.Where(t => !t.IsCompleted).ToList();
            if (open.Count == 0 && !MovingOut(moves)) break;
            await Task.WhenAny([.. open, Task.Delay(LookAgain, deadline.Token)]).ConfigureAwait(false);
        }
        void Start(ManagedProcess process, Func<Task<string?>> move)
        {
            if (moves.TryGetValue(process, out var last) && !(last.IsCompletedSuccessfully && last.Result is not null && tries[process] < Tries)) return;
            tries[process] = tries.GetValueOrDefault(process) + 1;
            moves[process] = Throttled(slots, move, deadline.Token);
        }

        var why = immediate.IsCancellationRequested
            ? "omd was told to stop at once (a second SIGTERM or SIGINT)"
            : $"not moved within the drain's {bound.TotalSeconds:0.#} s (shutdown.drain_timeout_ms)";
        var lost = LoseTheRest(moves, why, out var kept);
        LogDrained(logger, moves.Count - lost - kept, lost, clock.ElapsedMilliseconds);
    }

    /// <summary>A move out that began before the gate closed: it is brought back once it has arrived.</summary>
    private bool MovingOut(Dictionary<ManagedProcess, Task<string?>> moves) =>
        registry.HomePids().Select(registry.Find).Any(p => p is { State: ProcessState.Migrating } && !moves.ContainsKey(p));

    private async Task<string?> BringHomeAsync(ManagedProcess process)
    {
        var from = process.Where;
        try
        {
            await migration.BringHomeAsync(process).ConfigureAwait(false);
            LogCameHome(logger, process.Pid, from);
            return null;
        }
        catch (Exception e) when (e is MigrationException or TimeoutException)
        {
            return $"it could not come home from node {from}: {e.Message}";
        }
    }

    private async Task<string?> SendHomeAsync(ManagedProcess guest)
    {
        var why = await guests.RequestMoveAsync(guest.Pid, guest.Home, "omd stopping").ConfigureAwait(false);
        if (why is null) LogSentHome(logger, guest.Pid, guest.RemotePid, guest.Home);
        return why is null ? null : $"its home could not take it back: {why}";
    }

    private static async Task<string?> Throttled(SemaphoreSlim slots, Func<Task<string?>> move, CancellationToken deadline)
    {
        try
        {
            await slots.WaitAsync(deadline).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return null; // never begun: what is still away at the end says so
        }
        try
        {
            return await move().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return e.Message; // whatever went wrong, the process stays where it is: said once, at the end
        }
        finally
        {
            slots.Release();
        }
    }

    /// <summary>Logs each process still away or moving, and each guest still here (killed), as lost; returns how many.
    /// <paramref name="kept"/>: guests left to their keeper instead (<see cref="LeftToKeeper"/>).</summary>
    private int LoseTheRest(Dictionary<ManagedProcess, Task<string?>> moves, string why, out int kept)
    {
        kept = 0;
        string Reason(ManagedProcess p) =>
            moves.TryGetValue(p, out var move) && move.IsCompletedSuccessfully && move.Result is { } failed ? failed : why;
        var lost = 0;
        foreach (var process in registry.HomePids().Select(registry.Find))
        {
            if (process is not { State: ProcessState.Remote or ProcessState.Migrating }) continue;
            LogLost(logger, process.Pid, process.Command, process.Where, Reason(process));
            lost++;
        }
        foreach (var guest in Guests())
        {
            if (LeftToKeeper(guest.Pid))
            {
                // Stopped and left by its adoption once the drain is over (as a kill of omd would leave it).
                LogGuestKept(logger, guest.Pid, guest.RemotePid, guest.Home, Reason(guest));
                kept++;
                continue;
            }
            LogGuestLost(logger, guest.Pid, guest.RemotePid, guest.Home, Reason(guest));
            try
            {
                Signals.Kill(guest.Pid, Signals.SIGKILL);
            }
            catch (ProcessAccessException)
            {
                // It ended meanwhile.
            }
            lost++;
        }
        return lost;
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "stopping: bringing {Away} processes home and sending {Guests} guests home within {Seconds} s (a second SIGTERM stops at once)")]
    private static partial void LogDraining(ILogger logger, int away, int guests, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "stopping without a drain (shutdown.drain_timeout_ms = 0): {Away} processes away and {Guests} guests are lost")]
    private static partial void LogNoDrain(ILogger logger, int away, int guests);

    [LoggerMessage(Level = LogLevel.Information, Message = "stopping: process {Pid} is home from node {Node}")]
    private static partial void LogCameHome(ILogger logger, int pid, ushort node);

    [LoggerMessage(Level = LogLevel.Information, Message = "stopping: guest {Pid} (process {HomePid} of node {Home}) went home")]
    private static partial void LogSentHome(ILogger logger, int pid, int homePid, ushort home);

    [LoggerMessage(Level = LogLevel.Warning, Message = "process {Pid} ({Command}) on node {Node} lost at stop: {Reason}")]
    private static partial void LogLost(ILogger logger, int pid, string command, ushort node, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "guest {Pid} (process {HomePid} of node {Home}) lost at stop, killed: {Reason}")]
    private static partial void LogGuestLost(ILogger logger, int pid, int homePid, ushort home, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "guest {Pid} (process {HomePid} of node {Home}) not sent home at stop, left to its keeper for the next omd: {Reason}")]
    private static partial void LogGuestKept(ILogger logger, int pid, int homePid, ushort home, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "stopping: drain done, {Moved} moved, {Lost} lost, in {Ms} ms")]
    private static partial void LogDrained(ILogger logger, int moved, int lost, long ms);
}
