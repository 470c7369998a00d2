using OpenMosix.TestSupport;

namespace OpenMosix.Cli.Tests.Support;

/// <summary>The man pages kept in docs/man, one file per page (NAME.SECTION), and what groff makes of them.</summary>
internal static class ManPage
{
    public static string Directory => Path.Join(TestPrograms.RepositoryRoot, "docs", "man");

    public static IEnumerable<string> Files() =>
        System.IO.Directory.EnumerateFiles(Directory).Where(f => char.IsAsciiDigit(f[^1]) && f[^2] == '.').Order(StringComparer.Ordinal);

    /// <summary>The page of a program, if it has one ("mosrun" → docs/man/mosrun.1).</summary>
    public static string? Of(string program) => Files().FirstOrDefault(f => Path.GetFileNameWithoutExtension(f) == program);

    /// <summary>The page as plain text, unhyphenated, with all whitespace runs made one space, so that a phrase can
    /// be looked for whatever line it was broken over.</summary>
    public static string PlainText(string page)
    {
        var render = CommandRun.Run("groff", ["-man", "-Tascii", "-rHY=0", "-P-cbou", page]);
        Assert.True(render.ExitCode == 0, render.ToString());
        return string.Join(' ', render.Stdout.Split((char[])[' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries));
    }

    public static bool GroffInstalled => File.Exists("/usr/bin/groff");
}
