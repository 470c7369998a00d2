using System.Text.RegularExpressions;
using OpenMosix.Cli.Tests.Support;
using OpenMosix.TestSupport;

namespace OpenMosix.Cli.Tests;

/// <summary>
/// The man pages in docs/man render cleanly and cannot fall behind the CLI: om(1) names every command the real om
/// has, and every classic name has a page or is named in the page of the command it stands for.
/// </summary>
public sealed partial class ManPageTests
{
    public static TheoryData<string> Pages() => [.. ManPage.Files().Select(Path.GetFileName).OfType<string>()];

    [Theory]
    [MemberData(nameof(Pages))]
    public void The_page_renders_without_a_single_warning(string page)
    {
        Assert.SkipUnless(ManPage.GroffInstalled, "groff is not installed (apt-get install groff)");

        var render = CommandRun.Run("groff", ["-man", "-ww", "-z", "-Tutf8", Path.Join(ManPage.Directory, page)]);

        Assert.Equal((0, ""), (render.ExitCode, render.Stderr));
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public void The_page_has_the_sections_of_a_real_man_page(string page)
    {
        var source = File.ReadAllText(Path.Join(ManPage.Directory, page));
        string[] required = page.EndsWith(".5", StringComparison.Ordinal)
            ? ["NAME", "SYNOPSIS", "DESCRIPTION", "FILES", "EXAMPLES", "SEE ALSO"]
            : ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "FILES", "EXAMPLES", "SEE ALSO"];
        var sections = SectionHeading().Matches(source).Select(m => m.Groups[1].Value.Trim('"')).ToList();

        Assert.Empty(required.Except(sections));
        Assert.Matches($@"^\.TH {Regex.Escape(Path.GetFileNameWithoutExtension(page).ToUpperInvariant())} {page[^1]} ",
            source.Split('\n').First(l => l.StartsWith(".TH", StringComparison.Ordinal)));
    }

    [Fact]
    public void Om_1_names_every_command_of_om()
    {
        Assert.SkipUnless(ManPage.GroffInstalled, "groff is not installed (apt-get install groff)");
        var text = ManPage.PlainText(Path.Join(ManPage.Directory, "om.1"));

        var missing = OmCommandTree.Paths().Where(path => !text.Contains($"om {path}", StringComparison.Ordinal)).ToList();

        Assert.True(missing.Count == 0, "om.1 does not name: " + string.Join(", ", missing.Select(p => $"om {p}")));
    }

    [Fact]
    public void Every_classic_name_has_a_page_or_is_named_in_the_page_of_its_command()
    {
        Assert.SkipUnless(ManPage.GroffInstalled, "groff is not installed (apt-get install groff)");
        var classic = OmCommandTree.ClassicNames();
        // The page of a command is that of the classic name standing for it alone: run's page is mosrun.1.
        string PageOfCommand(string command) =>
            classic.Where(c => c.Value.SequenceEqual([command])).Select(c => ManPage.Of(c.Key)).FirstOrDefault(p => p is not null)
            ?? Path.Join(ManPage.Directory, "om.1");

        var missing = classic
            .Where(c => ManPage.Of(c.Key) is null)
            .Where(c => !Regex.IsMatch(ManPage.PlainText(PageOfCommand(c.Value[0])), $@"\b{c.Key}\b"))
            .Select(c => $"{c.Key} (in {Path.GetFileName(PageOfCommand(c.Value[0]))})")
            .ToList();

        Assert.True(missing.Count == 0, "no page names: " + string.Join(", ", missing));
    }

    /// <summary>Each command with a page of its own, and that page.</summary>
    public static TheoryData<string, string> CommandsWithPages() => new()
    {
        { "run", "mosrun.1" }, { "migrate", "migrate.1" }, { "ps", "mps.1" }, { "where", "mps.1" },
        { "mosctl manage", "mosctl.8" }, { "setpe", "setpe.8" }, { "showmap", "showmap.8" },
        { "daemon", "omd.8" }, { "discover", "omdiscd.8" },
    };

    [Theory]
    [MemberData(nameof(CommandsWithPages))]
    public void The_page_of_a_command_names_every_option_it_has(string command, string page)
    {
        Assert.SkipUnless(ManPage.GroffInstalled, "groff is not installed (apt-get install groff)");
        var text = ManPage.PlainText(Path.Join(ManPage.Directory, page));

        var missing = OmCommandTree.Options(command.Split(' ')).Where(option => !Regex.IsMatch(text, $@"(^|[\s(\[|]){Regex.Escape(option)}\b")).ToList();

        Assert.True(missing.Count == 0, $"{page} does not name these options of om {command}: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Omd_toml_5_describes_every_key_of_the_example_configuration()
    {
        var page = File.ReadAllText(Path.Join(ManPage.Directory, "omd.toml.5"));
        var example = File.ReadAllLines(Path.Join(TestPrograms.RepositoryRoot, "packaging", "omd.toml.example"));
        var section = "";
        var keys = new List<string>();
        foreach (var line in example)
        {
            if (TomlSection().Match(line) is { Success: true } s) section = s.Groups[1].Value;
            else if (TomlKey().Match(line) is { Success: true } k) keys.Add($"{section}.{k.Groups[1].Value}");
        }

        var missing = keys.Where(key => !SectionOf(page, key.Split('.')[0]).Contains($".B \"{key.Split('.')[1]} = ", StringComparison.Ordinal))
            .ToList();

        Assert.NotEmpty(keys);
        Assert.True(missing.Count == 0, "omd.toml.5 does not describe: " + string.Join(", ", missing));
    }

    /// <summary>The lines of a page from `.SS [NAME]` to the next heading.</summary>
    private static string SectionOf(string page, string name)
    {
        var start = page.IndexOf($".SS [{name}]\n", StringComparison.Ordinal);
        if (start < 0) return "";
        var end = Heading().Match(page, start + 1) is { Success: true } next ? next.Index : page.Length;
        return page[start..end];
    }

    [GeneratedRegex(@"^\.S[HS] ", RegexOptions.Multiline)]
    private static partial Regex Heading();

    [GeneratedRegex(@"^\.SH (.+)$", RegexOptions.Multiline)]
    private static partial Regex SectionHeading();

    [GeneratedRegex(@"^\[([a-z]+)\]")]
    private static partial Regex TomlSection();

    /// <summary>A key, also one commented out as an example (`# users = ["*"]`).</summary>
    [GeneratedRegex(@"^#?\s*([a-z_]+)\s*=")]
    private static partial Regex TomlKey();
}
