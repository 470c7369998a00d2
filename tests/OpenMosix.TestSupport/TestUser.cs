using OpenMosix.Linux;

namespace OpenMosix.TestSupport;

/// <summary>
/// A normal user for tests that run as root but need a process, or om itself, to run as someone else: nobody, with
/// no supplementary groups. Commands are wrapped in setpriv, which execs them (the PID a test holds is the program's).
/// </summary>
public static class TestUser
{
    public const int Uid = 65534, Gid = 65534;

    private const string Setpriv = "/usr/bin/setpriv";

    /// <summary>The command line that runs <paramref name="program"/> as the test user.</summary>
    public static (string Program, IReadOnlyList<string> Arguments) Wrap(string program, IReadOnlyList<string> arguments) =>
        (Setpriv, ["--reuid", $"{Uid}", "--regid", $"{Gid}", "--clear-groups", "--", program, .. arguments]);

    /// <summary>Gives a file or directory (a test's temp directory) to the test user.</summary>
    public static void Own(string path) => FileOwnership.Change(path, Uid, Gid);
}
