using System.Text.RegularExpressions;
using OpenMosix.TestSupport;

namespace OpenMosix.Cli.Tests;

/// <summary>
/// docs/applications.md lists the real programs the tests move; this keeps that list true: every program a test
/// runs through an <c>Installed(...)</c> lookup (the tests' way of naming a Debian program they need) is in its first
/// table, and every program in that table is still run by a test.
/// </summary>
public sealed partial class ApplicationsListTests
{
    [Fact]
    public void Docs_applications_lists_exactly_the_real_programs_the_tests_move()
    {
        var root = TestPrograms.RepositoryRoot;
        var tested = Directory.EnumerateFiles(Path.Join(root, "tests"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/bin/", StringComparison.Ordinal) && !f.Contains("/obj/", StringComparison.Ordinal)
                        && !f.EndsWith(nameof(ApplicationsListTests) + ".cs", StringComparison.Ordinal))
            .SelectMany(f => InstalledProgram().Matches(File.ReadAllText(f)).Select(m => Path.GetFileName(m.Groups[1].Value)))
            .ToHashSet(StringComparer.Ordinal);
        var doc = File.ReadAllText(Path.Join(root, "docs", "applications.md"));
        var table = doc.Split("## Unmodified Debian programs the tests move", 2)[1].Split("\n## ", 2)[0];
        var listed = TableProgram().Matches(table).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);

        Assert.True(tested.Count >= 5, $"found only {tested.Count} programs in the tests: the lookup pattern no longer matches");
        Assert.Empty(tested.Except(listed).Order());
        Assert.Empty(listed.Except(tested).Order());
    }

    [GeneratedRegex("""Installed\("([A-Za-z0-9_./+-]+)"\)""")]
    private static partial Regex InstalledProgram();

    [GeneratedRegex(@"^\| `([^`]+)` \|", RegexOptions.Multiline)]
    private static partial Regex TableProgram();
}
