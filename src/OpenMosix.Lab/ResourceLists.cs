using System.Globalization;

namespace OpenMosix.Lab;

/// <summary>
/// Parses the per-node lists of `om lab up`: `--cpus 0.5,0.5,1` and `--mem 1G,1G,2G`. A list has one value per node, or
/// one value for all of them.
/// </summary>
public static class ResourceLists
{
    public static IReadOnlyList<NodeResources> Build(int nodes, string? cpus, string? memory)
    {
        if (nodes is < 1 or > LabSpec.MaxNodes) throw new LabException($"--nodes must be between 1 and {LabSpec.MaxNodes}, not {nodes}");
        var cpuValues = cpus is null
            ? Enumerable.Repeat(Math.Round((double)Environment.ProcessorCount / nodes, 3), nodes).ToArray()
            : Expand(Split(cpus).Select(ParseCpus).ToArray(), nodes, "--cpus");
        var memoryValues = memory is null
            ? new long?[nodes]
            : Expand(Split(memory).Select(m => (long?)ParseBytes(m)).ToArray(), nodes, "--mem");
        return [.. Enumerable.Range(0, nodes).Select(i => new NodeResources(cpuValues[i], memoryValues[i]))];
    }

    public static double ParseCpus(string text)
    {
        if (!double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var cpus) || cpus < 0.01 || cpus > 1024)
            throw new LabException($"--cpus: '{text}' is not a CPU count between 0.01 and 1024 (e.g. 0.5)");
        return cpus;
    }

    /// <summary>"1G", "512M", "1.5GiB", "4096": bytes, with binary K/M/G/T suffixes.</summary>
    public static long ParseBytes(string text)
    {
        var t = text.Trim();
        if (t.EndsWith("iB", StringComparison.OrdinalIgnoreCase)) t = t[..^2];
        else if (t.EndsWith('B') || t.EndsWith('b')) t = t[..^1];
        var multiplier = t.Length == 0 ? 1L : char.ToUpperInvariant(t[^1]) switch
        {
            'K' => 1L << 10,
            'M' => 1L << 20,
            'G' => 1L << 30,
            'T' => 1L << 40,
            _ => 1L,
        };
        if (multiplier != 1) t = t[..^1];
        if (!double.TryParse(t, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount)
            || amount * multiplier < 4096 || amount * multiplier > (double)(1L << 50))
            throw new LabException($"--mem: '{text}' is not a memory size of at least 4096 bytes (e.g. 512M, 1G)");
        return (long)(amount * multiplier);
    }

    private static string[] Split(string list) => list.Split(',', StringSplitOptions.TrimEntries);

    private static T[] Expand<T>(T[] values, int nodes, string option) =>
        values.Length == nodes ? values
        : values.Length == 1 ? Enumerable.Repeat(values[0], nodes).ToArray()
        : throw new LabException($"{option} has {values.Length} values for {nodes} nodes (give one per node, or one for all)");
}
