using OpenMosix.Daemon.Migration;

namespace OpenMosix.Daemon.Web.Dashboard;

/// <summary>
/// The last <see cref="Capacity"/> moves of this node's processes (200 by default), newest first, as the dashboard
/// lists them. <see cref="Record"/> is what <see cref="HomeMigration.MoveEnded"/> calls.
/// </summary>
public sealed class MigrationHistory(int capacity = 200)
{
    private readonly Lock _gate = new();
    private readonly LinkedList<MigrationEntry> _entries = new();

    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity));

    public void Record(MoveEnded move)
    {
        ArgumentNullException.ThrowIfNull(move);
        var entry = new MigrationEntry(move.At.ToUnixTimeMilliseconds(), move.Pid, move.Command, move.From, move.To,
            move.Error is null ? "moved" : "failed", move.Error ?? "", move.Result?.FrozenMs ?? 0, move.Result?.ImageBytes ?? 0);
        lock (_gate)
        {
            _entries.AddFirst(entry);
            while (_entries.Count > Capacity) _entries.RemoveLast();
        }
    }

    public IReadOnlyList<MigrationEntry> Newest()
    {
        lock (_gate) return [.. _entries];
    }
}
