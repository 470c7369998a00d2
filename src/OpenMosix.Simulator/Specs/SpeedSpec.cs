using System.Globalization;

namespace OpenMosix.Simulator.Specs;

/// <summary>Node speeds (10000 = the reference CPU): <c>X</c> for all, <c>A,B,C</c> cycled over the nodes, or a
/// distribution such as <c>uniform:5000-20000</c>.</summary>
public sealed record SpeedSpec(IReadOnlyList<double> Cycle, Distribution? Drawn)
{
    public double For(int node, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return Drawn is { } d ? Math.Max(1, d.Draw(random)) : Cycle[node % Cycle.Count];
    }

    public static SpeedSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Contains(':', StringComparison.Ordinal)) return new SpeedSpec([], Distribution.Parse(text, "speeds"));
        var speeds = text.Split(',', StringSplitOptions.TrimEntries).Select(s =>
            double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0 && double.IsFinite(v)
                ? v
                : throw new FormatException($"speeds: '{s}' is not a positive speed")).ToList();
        return new SpeedSpec(speeds, null);
    }
}
