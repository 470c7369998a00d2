using System.Globalization;

namespace OpenMosix.Simulator.Specs;

/// <summary>
/// <c>COUNT[,len=DIST][,mem=DIST][,at=0|poisson:RATE][,on=random|NODE|first:K]</c>: how many jobs, their lengths
/// (seconds on a reference CPU) and memory (MiB), when they arrive (all at once, or a Poisson stream of RATE per
/// second), and where they start (a random node, one node, or spread over the first K).
/// </summary>
public sealed record JobSpec(int Count, Distribution Length, Distribution MemoryMiB, double ArrivalRate, string Origin, int OriginValue)
{
    public static JobSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (!int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < 1)
            throw new FormatException($"jobs: '{parts[0]}' is not a positive job count");
        var spec = new JobSpec(count, new Distribution("uniform", 30, 90), new Distribution("uniform", 16, 256), 0, "random", 0);
        foreach (var part in parts.Skip(1))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new FormatException($"jobs: '{part}' is not key=value");
            var (key, value) = (part[..eq], part[(eq + 1)..]);
            spec = key switch
            {
                "len" => spec with { Length = Distribution.Parse(value, "jobs len") },
                "mem" => spec with { MemoryMiB = Distribution.Parse(value, "jobs mem") },
                "at" when value == "0" => spec with { ArrivalRate = 0 },
                "at" when value.StartsWith("poisson:", StringComparison.Ordinal) =>
                    spec with { ArrivalRate = Distribution.Parse(value["poisson:".Length..], "jobs at").A },
                "on" when value == "random" => spec with { Origin = "random" },
                "on" when value.StartsWith("first:", StringComparison.Ordinal) =>
                    spec with { Origin = "first", OriginValue = PositiveInt(value["first:".Length..]) },
                "on" => spec with { Origin = "node", OriginValue = PositiveInt(value) },
                _ => throw new FormatException($"jobs: unknown or malformed '{part}'"),
            };
        }
        return spec;
    }

    private static int PositiveInt(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 ? n : throw new FormatException($"jobs: '{text}' is not a node number");
}
