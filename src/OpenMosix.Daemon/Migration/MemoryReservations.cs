using System.Diagnostics;

namespace OpenMosix.Daemon.Migration;

/// <summary>
/// Memory promised to guests that were accepted but do not show in this node's measurement yet: from the accept until
/// they run here and a sample or two has counted them. Without it, two offers arriving together would each be
/// weighed against the same free memory, and a node could take more guests than it can hold.
/// </summary>
public sealed class MemoryReservations
{
    /// <summary>How long a running guest's promise is kept: longer than the sampling of this node's memory.</summary>
    public static readonly TimeSpan UntilMeasured = TimeSpan.FromSeconds(2);

    private readonly Lock _gate = new();
    private readonly List<Reservation> _open = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <summary>Bytes promised and not yet measured.</summary>
    public long Reserved
    {
        get
        {
            lock (_gate)
            {
                var now = _clock.Elapsed;
                _open.RemoveAll(r => r.Until is { } until && until <= now);
                return _open.Sum(r => r.Bytes);
            }
        }
    }

    public Reservation Reserve(long bytes)
    {
        var reservation = new Reservation(this, Math.Max(0, bytes));
        lock (_gate) _open.Add(reservation);
        return reservation;
    }

    /// <summary>One promise: released when disposed, unless <see cref="Keep"/> extended it for a while.</summary>
    public sealed class Reservation(MemoryReservations owner, long bytes) : IDisposable
    {
        public long Bytes { get; } = bytes;
        internal TimeSpan? Until { get; private set; }

        /// <summary>Keeps the promise for <paramref name="time"/> more, even after disposal.</summary>
        public void Keep(TimeSpan time)
        {
            lock (owner._gate) Until = owner._clock.Elapsed + time;
        }

        public void Dispose()
        {
            lock (owner._gate)
                if (Until is null) owner._open.Remove(this);
        }
    }
}
