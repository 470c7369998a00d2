namespace OpenMosix.Daemon.Balancing;

/// <summary>What the balancer asks of migration: move a process of this node elsewhere (HomeMigration does it).</summary>
public interface IProcessMover
{
    Task<MigrationResult> MigrateAsync(ManagedProcess process, ushort target, CancellationToken cancel, bool? precopy = null);
}
