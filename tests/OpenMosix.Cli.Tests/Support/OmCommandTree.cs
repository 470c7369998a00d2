using OpenMosix.TestSupport;

namespace OpenMosix.Cli.Tests.Support;

/// <summary>
/// What the real om says about itself: every command path, read from the "Commands:" sections of `om ... --help`
/// (the tree CommandCatalog builds, hidden commands left out), and its classic names from `om classic-names`.
/// </summary>
internal static class OmCommandTree
{
    /// <summary>Every command path below om, such as "mosctl getload" and "image info".</summary>
    public static IReadOnlyList<string> Paths() => [.. Below([])];

    /// <summary>The commands directly below a path ("" for om itself).</summary>
    public static IReadOnlyList<string> Children(params string[] path) =>
        [.. HelpSection("Commands:", path).Select(line => line.Split(' ')[0])];

    /// <summary>The options of a command as its help lists them, each by its long spelling ("--tree" for "-f, --tree";
    /// "-off" where there is no long one).</summary>
    public static IReadOnlyList<string> Options(params string[] path) =>
        [.. HelpSection("Options:", path)
            .Select(line => line.Split("  ")[0].Split(' ').Select(w => w.TrimEnd(',')).Where(w => w.StartsWith('-')).ToList())
            .Select(spellings => spellings.FirstOrDefault(w => w.StartsWith("--", StringComparison.Ordinal)) ?? spellings[^1])];

    /// <summary>The lines of one section of `om PATH --help`, trimmed.</summary>
    private static IEnumerable<string> HelpSection(string heading, string[] path)
    {
        var help = CommandRun.Run(TestPaths.Om, [.. path, "--help"]);
        Assert.True(help.ExitCode == 0, help.ToString());
        return help.Stdout.Split('\n').SkipWhile(line => line != heading).Skip(1)
            .TakeWhile(line => line.Trim().Length > 0).Select(line => line.Trim());
    }

    /// <summary>Classic name → the om words it stands for ("runhome" → ["run", "--home"]).</summary>
    public static IReadOnlyDictionary<string, string[]> ClassicNames()
    {
        var list = CommandRun.Run(TestPaths.Om, ["classic-names"]);
        Assert.True(list.ExitCode == 0, list.ToString());
        return list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' '))
            .ToDictionary(words => words[0], words => words[1..], StringComparer.Ordinal);
    }

    private static IEnumerable<string> Below(string[] path)
    {
        foreach (var child in Children(path))
        {
            string[] childPath = [.. path, child];
            yield return string.Join(' ', childPath);
            foreach (var deeper in Below(childPath)) yield return deeper;
        }
    }
}
