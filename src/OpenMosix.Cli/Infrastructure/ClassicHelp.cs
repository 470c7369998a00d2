namespace OpenMosix.Cli.Infrastructure;

/// <summary>
/// Help through a classic name shows that name in its usage lines: `mosctl --help` reads "mosctl [command]", not
/// "om mosctl [command]", and `runhome --help` reads "runhome ...". The command tree's root is always "om" (see
/// CommandCatalog.Build), so the parser's own text is caught and its usage lines renamed.
/// </summary>
internal sealed class ClassicHelp
{
    private readonly string _invokedAs;
    private readonly string _prefix;

    private ClassicHelp(string invokedAs, string commandWords)
    {
        _invokedAs = invokedAs;
        _prefix = "om " + commandWords;
    }

    /// <summary>Null when om was called as om.</summary>
    public static ClassicHelp? For(string invokedAs) =>
        CommandCatalog.CommandWordsOf(invokedAs) is { } words ? new ClassicHelp(invokedAs, words) : null;

    public StringWriter Output { get; } = new();

    public void Flush() => Console.Out.Write(Renamed(Output.ToString()));

    /// <summary>Renames "om WORDS" at the start of each line of the Usage section.</summary>
    private string Renamed(string help)
    {
        var lines = help.Split('\n');
        var inUsage = false;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.TrimEnd('\r') == "Usage:") inUsage = true;
            else if (line.Trim().Length == 0) inUsage = false;
            else if (inUsage && line.TrimStart().StartsWith(_prefix, StringComparison.Ordinal))
            {
                var indent = line.Length - line.TrimStart().Length;
                var rest = line[(indent + _prefix.Length)..];
                if (rest.Length == 0 || rest[0] == ' ') lines[i] = line[..indent] + _invokedAs + rest;
            }
        }
        return string.Join('\n', lines);
    }
}
