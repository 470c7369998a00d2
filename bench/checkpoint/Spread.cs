using System.Globalization;

namespace OpenMosix.Bench.Checkpoint;

/// <summary>The median of a set of measurements with its range: one number alone hides how noisy the machine was.</summary>
internal readonly record struct Spread(double Median, double Min, double Max, int Count)
{
    public static Spread Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        if (sorted.Count == 0) return new Spread(double.NaN, double.NaN, double.NaN, 0);
        // An even count takes the mean of the middle two, so five or six runs give the same kind of median.
        var middle = sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
        return new Spread(middle, sorted[0], sorted[^1], sorted.Count);
    }

    public static Spread OfTimes(IEnumerable<TimeSpan> values) => Of(values.Select(t => t.TotalMilliseconds));

    /// <summary>"12.3 (10.1–15.0)", at the given decimals.</summary>
    public string Format(string format) =>
        $"{Median.ToString(format, CultureInfo.InvariantCulture)} ({Min.ToString(format, CultureInfo.InvariantCulture)}–{Max.ToString(format, CultureInfo.InvariantCulture)})";
}
