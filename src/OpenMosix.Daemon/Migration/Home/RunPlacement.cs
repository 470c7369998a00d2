namespace OpenMosix.Daemon.Migration.Home;

/// <summary>
/// `om run --on/--among/--lock`: records the lock now and, once the process has exec'd its program (om registers
/// before it execs), moves it where asked. A node that is not alive is skipped for the least loaded one only with
/// --fallback; otherwise the process stays home and the log says why.
/// </summary>
internal sealed class RunPlacement(ProcessRegistry registry, Func<ushort> selfNode, Func<ClusterView> viewOf,
    Func<ManagedProcess, ushort, Task> migrate, ILogger logger)
{
    public void PlaceAfterExec(ManagedProcess process, RunRequest placement)
    {
        ArgumentNullException.ThrowIfNull(process);
        ArgumentNullException.ThrowIfNull(placement);
        registry.Update(process, p => p.Locked = placement.Lock);
        if (placement.Home || (placement.On == 0 && placement.Among.Count == 0)) return;
        _ = Task.Run(async () =>
        {
            await WaitForExecAsync(process).ConfigureAwait(false);
            if (Choose(viewOf(), placement) is not { } target || target == selfNode())
            {
                HomeLog.PlacementSkipped(logger, process.Pid, "the requested nodes are not available");
                return;
            }
            try
            {
                await migrate(process, target).ConfigureAwait(false);
            }
            catch (Exception e) when (e is MigrationException or ProcessAccessException or SyscallException or IOException)
            {
                HomeLog.PlacementSkipped(logger, process.Pid, e.Message);
            }
        });
    }

    /// <summary>The node asked for if alive, else the least loaded of those asked for, else with --fallback any.</summary>
    public static ushort? Choose(ClusterView view, RunRequest placement)
    {
        ArgumentNullException.ThrowIfNull(placement);
        ushort? target = placement.On != 0
            ? (Placement.IsAlive(view, placement.On) ? (ushort)placement.On : null)
            : Placement.LeastLoaded(view, placement.Among);
        if (target is null && placement.Fallback) target = Placement.LeastLoaded(view);
        return target;
    }

    /// <summary>Until the process (registered by om run, which then execs) runs its program and its exec has closed
    /// om's own descriptors: moving om itself would be pointless, and om's are not the program's to move
    /// (<see cref="OmStartup"/>). Compared with what it was when it registered (om cannot have exec'd before its
    /// registration was answered); gives up after 10 s (a program that never execs is moved as it is).</summary>
    public static async Task WaitForExecAsync(ManagedProcess process)
    {
        ArgumentNullException.ThrowIfNull(process);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (process.Startup is { } om && !om.IsLeftBehind(process.Pid) && clock.Elapsed < TimeSpan.FromSeconds(10))
            await Task.Delay(5).ConfigureAwait(false);
    }
}
