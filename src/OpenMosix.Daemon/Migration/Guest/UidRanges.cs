namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>A set of uids written as ranges and single ids, "1000-60000,65534"; "" is none.</summary>
public sealed class UidRanges
{
    private readonly List<(uint First, uint Last)> _ranges;

    private UidRanges(List<(uint, uint)> ranges, string text)
    {
        _ranges = ranges;
        Text = text;
    }

    public string Text { get; }

    public bool Contains(uint uid) => _ranges.Any(r => uid >= r.First && uid <= r.Last);

    public override string ToString() => Text.Length == 0 ? "none" : Text;

    /// <summary>The same ranges, however they were written.</summary>
    public override bool Equals(object? obj) => obj is UidRanges other && _ranges.SequenceEqual(other._ranges);

    public override int GetHashCode() => _ranges.Count;

    /// <summary>Parses <paramref name="text"/>; null with <paramref name="problem"/> set when it is not such a list.</summary>
    public static UidRanges? TryParse(string text, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ranges = new List<(uint, uint)>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var dash = part.IndexOf('-', StringComparison.Ordinal);
            var (first, last) = dash < 0 ? (part, part) : (part[..dash].Trim(), part[(dash + 1)..].Trim());
            if (!uint.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var low)
                || !uint.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var high) || high < low)
            {
                problem = $"'{part}' is not a uid or a range of uids like 1000-60000";
                return null;
            }
            ranges.Add((low, high));
        }
        problem = null;
        return new UidRanges(ranges, text.Trim());
    }

    public static UidRanges Parse(string text) => TryParse(text, out var problem) ?? throw new FormatException(problem);
}
