namespace OpenMosix.TestSupport;

/// <summary>
/// How the browser tests start chromium: Debian's own (scripts/prereqs.sh installs it), never a browser Playwright
/// would download, with none of its own network traffic (updates, sync, QUIC): the tests talk to loopback and to the
/// lab's namespaces only, and this machine's network is closed.
/// </summary>
public static class ChromiumSettings
{
    public const string Executable = "/usr/bin/chromium";

    public static readonly string[] Arguments =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    public static bool Installed => File.Exists(Executable);
}
