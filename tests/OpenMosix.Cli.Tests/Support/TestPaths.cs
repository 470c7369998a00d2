using OpenMosix.TestSupport;

namespace OpenMosix.Cli.Tests.Support;

/// <summary>Where the om binary, the C test programs and Debian's programs are (OM_BIN and OM_TEST_PROGRAMS are
/// read by <see cref="OmBinary"/> and <see cref="TestPrograms"/>).</summary>
internal static class TestPaths
{
    public static string Om => OmBinary.Path;

    /// <summary>A C target from tests/Programs.</summary>
    public static string Program(string name) => TestPrograms.Locate(name);

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
}
