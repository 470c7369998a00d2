namespace OpenMosix.Daemon.Migration;

/// <summary>
/// Closed when omd begins to stop: from then on it starts no move out and takes no guest (each says why), so that
/// what its drain brings home stays home and nothing new arrives to be lost. Trips home still go through.
/// </summary>
public sealed class StopGate
{
    private volatile bool _closed;

    public bool IsClosed => _closed;

    public void Close() => _closed = true;

    /// <summary>Why a process may not leave this node now, or null.</summary>
    public string? OutwardRefusal(int pid) =>
        _closed ? $"omd is stopping: process {pid} stays home (no move out while it drains)" : null;

    /// <summary>Why this node takes no guest now, or null.</summary>
    public string? GuestRefusal() => _closed ? "omd on this node is stopping: it takes no processes" : null;
}
