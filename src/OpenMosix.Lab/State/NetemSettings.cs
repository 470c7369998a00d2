using System.Globalization;

namespace OpenMosix.Lab.State;

/// <summary>
/// What `om lab netem` emulates on a node's link, in each direction: every packet delayed <see cref="DelayMilliseconds"/>
/// and lost with probability <see cref="LossPercent"/> %. A round trip to or from the node is therefore 2 × delay longer.
/// </summary>
public sealed record NetemSettings(double LossPercent, double DelayMilliseconds)
{
    /// <summary>Each packet's delay varies by up to this much either way (uniformly; netem's "delay D J").</summary>
    public double JitterMilliseconds { get; init; }

    public const double MaxDelayMilliseconds = 60_000;

    /// <summary>Why these values cannot be applied, or null when they can.</summary>
    public string? Problem() =>
        LossPercent is < 0 or > 100 || double.IsNaN(LossPercent) ? $"--loss must be a percentage between 0 and 100, not {Format(LossPercent)}"
        : DelayMilliseconds is < 0 or > MaxDelayMilliseconds || double.IsNaN(DelayMilliseconds)
            ? $"--delay must be between 0 and {MaxDelayMilliseconds} ms, not {Format(DelayMilliseconds)}"
        : JitterMilliseconds < 0 || JitterMilliseconds > DelayMilliseconds || double.IsNaN(JitterMilliseconds)
            ? $"--jitter must be between 0 and the delay ({Format(DelayMilliseconds)} ms), not {Format(JitterMilliseconds)}"
        : null;

    /// <summary>netem's own words for it: "delay 50ms loss 1%"; microseconds, so a fractional millisecond is kept.</summary>
    public IReadOnlyList<string> TcArguments() =>
        ["netem", "delay", $"{Format(Math.Round(DelayMilliseconds * 1000))}us", $"{Format(Math.Round(JitterMilliseconds * 1000))}us",
            "loss", $"{Format(LossPercent)}%"];

    public override string ToString() => JitterMilliseconds > 0
        ? $"delay {Format(DelayMilliseconds)} ± {Format(JitterMilliseconds)} ms, loss {Format(LossPercent)} %"
        : $"delay {Format(DelayMilliseconds)} ms, loss {Format(LossPercent)} %";

    private static string Format(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
