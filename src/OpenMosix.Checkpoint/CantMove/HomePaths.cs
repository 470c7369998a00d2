namespace OpenMosix.Checkpoint.CantMove;

/// <summary>
/// The directories whose files are home's (omd.toml's <c>[files] home_paths</c>): a moved process's descriptors of
/// files below them stay at home and are forwarded, and its opens, stats, accesses and readlinks of paths below them
/// are carried out at home by its deputy, wherever it runs (docs/forwarding.md). Prefixes are absolute and whole
/// components: "/data" covers "/data" and "/data/x", not "/database".
/// </summary>
public sealed class HomePaths
{
    public const int MaxPrefixes = 64;

    public static readonly HomePaths None = new([]);

    public IReadOnlyList<string> Prefixes { get; }

    public bool IsEmpty => Prefixes.Count == 0;

    /// <exception cref="ArgumentException">a prefix that <see cref="Problem"/> refuses.</exception>
    public HomePaths(IEnumerable<string> prefixes)
    {
        ArgumentNullException.ThrowIfNull(prefixes);
        var list = new List<string>();
        foreach (var prefix in prefixes)
        {
            if (Problem(prefix) is { } problem) throw new ArgumentException(problem, nameof(prefixes));
            list.Add(prefix.Length > 1 ? prefix.TrimEnd('/') : prefix);
        }
        if (list.Count > MaxPrefixes) throw new ArgumentException($"at most {MaxPrefixes} home paths, not {list.Count}", nameof(prefixes));
        Prefixes = list.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>Why <paramref name="prefix"/> cannot be a home path, or null. "/" cannot: the program's own libraries
    /// would be home's, and a forwarded descriptor cannot be mapped.</summary>
    public static string? Problem(string prefix)
    {
        if (string.IsNullOrEmpty(prefix) || prefix[0] != '/') return $"home path '{prefix}' is not absolute";
        var trimmed = prefix.TrimEnd('/');
        if (trimmed.Length == 0) return "home path '/' would make every file home's (the program's own libraries too)";
        if (prefix.Length > 1024 || prefix.Contains('\0', StringComparison.Ordinal)) return $"home path '{prefix}' is not a usable path";
        if (trimmed.Split('/').Any(part => part is "." or "..")) return $"home path '{prefix}' has '.' or '..' in it";
        return null;
    }

    /// <summary>Whether the absolute <paramref name="path"/> lies below a prefix, after "." and ".." are taken out as
    /// text (the decision only: the call itself gets the path as the program gave it).</summary>
    public bool Covers(string path)
    {
        if (IsEmpty || string.IsNullOrEmpty(path) || path[0] != '/') return false;
        var normal = Normalize(path);
        foreach (var prefix in Prefixes)
            if (normal == prefix || (normal.StartsWith(prefix, StringComparison.Ordinal) && normal.Length > prefix.Length && normal[prefix.Length] == '/'))
                return true;
        return false;
    }

    private static string Normalize(string path)
    {
        var parts = new List<string>();
        foreach (var part in path.Split('/'))
        {
            if (part is "" or ".") continue;
            if (part == "..")
            {
                if (parts.Count > 0) parts.RemoveAt(parts.Count - 1);
                continue;
            }
            parts.Add(part);
        }
        return "/" + string.Join('/', parts);
    }
}
