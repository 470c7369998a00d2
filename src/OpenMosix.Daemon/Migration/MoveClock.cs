using System.Diagnostics;
using System.Text;

namespace OpenMosix.Daemon.Migration;

/// <summary>
/// Where one move's time went, phase by phase, for one log line per side (issue #20: a small move's fixed costs are
/// found from these, not guessed). Each <see cref="Mark"/> ends the phase that ran since the last one.
/// </summary>
internal sealed class MoveClock
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly StringBuilder _phases = new();
    private TimeSpan _last;

    public TimeSpan Elapsed => _clock.Elapsed;

    public void Mark(string phase)
    {
        var now = _clock.Elapsed;
        lock (_phases)
        {
            if (_phases.Length > 0) _phases.Append(", ");
            _phases.Append(CultureInfo.InvariantCulture, $"{phase} {(now - _last).TotalMilliseconds:F1}");
            _last = now;
        }
    }

    /// <summary>"checks 2.1, link 9.8, ... ms; 231.0 ms in all".</summary>
    public override string ToString()
    {
        lock (_phases) return string.Create(CultureInfo.InvariantCulture, $"{_phases} ms; {_clock.Elapsed.TotalMilliseconds:F1} ms in all");
    }
}
