using System.Globalization;

namespace OpenMosix.Simulator.Specs;

/// <summary>What a process tree does: a fork-and-forget parent forks all its children at once and waits for them; a
/// make-like driver keeps at most <c>-jN</c> compile jobs running from its queue, then runs one serial link job.</summary>
public enum TreeKind
{
    Fork,
    Make,
}

/// <summary>
/// Process-tree workloads, every parent on one of the first <see cref="Parents"/> nodes and every child born on its
/// parent's node: <c>fork:K[,parents=P][,len=DIST][,mem=DIST]</c> (each parent forks K CPU-bound children at once and
/// waits for all) or <c>make:M[,j=N][,link=DIST][,parents=P][,len=DIST][,mem=DIST]</c> (each driver runs M compile
/// jobs, at most N at a time, then a link job that starts only when all are done). Lengths in seconds on the reference
/// CPU, memory in MiB.
/// </summary>
public sealed record TreeSpec(TreeKind Kind, int Children, int Parallel, Distribution Length, Distribution MemoryMiB, Distribution? Link, int Parents)
{
    /// <summary>The program names children run, which is what placement learns lifetimes by.</summary>
    public string ChildProgram => Kind == TreeKind.Fork ? "worker" : "cc";
    public const string LinkProgram = "ld";

    /// <summary>Processes in all trees: every child, and every driver's link job.</summary>
    public int Processes => Parents * (Children + (Link is null ? 0 : 1));

    public static TreeSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var colon = parts[0].IndexOf(':', StringComparison.Ordinal);
        var kind = colon < 0 ? parts[0] : parts[0][..colon];
        var count = colon < 0 ? null : parts[0][(colon + 1)..];
        var spec = kind switch
        {
            "fork" => new TreeSpec(TreeKind.Fork, 0, 0, new Distribution("uniform", 30, 90), new Distribution("uniform", 16, 256), null, 1),
            "make" => new TreeSpec(TreeKind.Make, 0, 16, new Distribution("uniform", 0.2, 3), new Distribution("uniform", 16, 128), new Distribution("fixed", 5), 1),
            _ => throw new FormatException($"tree: '{parts[0]}' is not fork:K or make:M"),
        };
        spec = spec with { Children = Positive(count ?? "", kind == "fork" ? "children" : "compile jobs") };
        if (spec.Kind == TreeKind.Fork) spec = spec with { Parallel = spec.Children };
        foreach (var part in parts.Skip(1))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new FormatException($"tree: '{part}' is not key=value");
            var (key, value) = (part[..eq], part[(eq + 1)..]);
            spec = (key, spec.Kind) switch
            {
                ("len", _) => spec with { Length = Distribution.Parse(value, "tree len") },
                ("mem", _) => spec with { MemoryMiB = Distribution.Parse(value, "tree mem") },
                ("parents", _) => spec with { Parents = Positive(value, "parents") },
                ("j", TreeKind.Make) => spec with { Parallel = Positive(value, "jobs at a time (j)") },
                ("link", TreeKind.Make) => spec with { Link = Distribution.Parse(value, "tree link") },
                _ => throw new FormatException($"tree: unknown or malformed '{part}' for {kind}"),
            };
        }
        return spec;
    }

    private static int Positive(string text, string what) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1
            ? n
            : throw new FormatException($"tree: '{text}' is not a positive number of {what}");
}
