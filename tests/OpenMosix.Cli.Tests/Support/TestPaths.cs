namespace OpenMosix.Cli.Tests.Support;

/// <summary>Where the om binary and the C test programs are: OM_BIN / OM_TEST_PROGRAMS, else repo-relative defaults.</summary>
internal static class TestPaths
{
    private static readonly Lazy<string> RepoRoot = new(FindRepoRoot);

    public static string Om => Environment.GetEnvironmentVariable("OM_BIN") is { Length: > 0 } bin
        ? bin
        : Path.Combine(RepoRoot.Value, "artifacts", "bin", "om");

    public static string ProgramsDirectory => Environment.GetEnvironmentVariable("OM_TEST_PROGRAMS") is { Length: > 0 } dir
        ? dir
        : Path.Combine(RepoRoot.Value, "tests", "Programs", "build");

    /// <summary>A C target from tests/Programs; fails clearly when it has not been built.</summary>
    public static string Program(string name)
    {
        var path = Path.Combine(ProgramsDirectory, name);
        if (!File.Exists(path))
            throw new FileNotFoundException($"test program {path} missing: run `make -C tests/Programs` or set OM_TEST_PROGRAMS", path);
        return path;
    }

    /// <summary>A Debian program by absolute path, so that version managers' shims (pyenv) never stand in between.</summary>
    public static string Installed(string name)
    {
        foreach (var dir in new[] { "/usr/bin", "/bin" })
        {
            var path = Path.Combine(dir, name);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException($"{name} is not installed in /usr/bin", name);
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "OpenMosix.slnx"))) return dir.FullName;
        throw new DirectoryNotFoundException("OpenMosix.slnx not found above " + AppContext.BaseDirectory);
    }
}
