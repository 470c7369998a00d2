using OpenMosix.TestSupport;
using OpenMosix.Cli.Tests.Support;

namespace OpenMosix.Cli.Tests;

/// <summary>
/// /etc/init.d/openmosix drives a real omd: start brings it up, stop sends guests and processes home (which turns on
/// block and lstay) and ends it, and the next start turns those two off again, so a restart leaves the node as it
/// was. Every path of the script and of that omd lives in a temporary directory (through /etc/default/openmosix and
/// omd.toml), and omd has ports of its own, so nothing of the machine's own openMosix is touched.
/// </summary>
public sealed class InitScriptTests : IDisposable
{
    private readonly TempDirectory _dir = new("om-init");

    public void Dispose()
    {
        // A failed assertion may leave omd running: end it as stop would.
        var pidFile = _dir.File("run/omd.pid");
        if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid))
        {
            try
            {
                using var omd = System.Diagnostics.Process.GetProcessById(pid);
                omd.Kill();
            }
            catch (ArgumentException)
            {
                // already gone
            }
        }
        _dir.Dispose();
    }

    [Theory]
    [InlineData("sh")]
    [InlineData("bash")]
    public void The_init_script_parses(string shell)
    {
        var check = CommandRun.Run(shell, ["-n", Script]);
        Assert.True(check.ExitCode == 0, check.ToString());
    }

    [Fact]
    public void Without_a_command_it_prints_its_usage()
    {
        var run = CommandRun.Run("sh", [Script]);
        Assert.Equal((2, $"usage: {Script} start|stop|restart|status\n"), (run.ExitCode, run.Stderr));
    }

    [Fact]
    public void Start_status_stop_and_start_again_leave_the_node_as_it_was()
    {
        var script = Prepare();

        Assert.Equal(0, Run(script, "start").ExitCode);
        var status = Run(script, "status");
        Assert.Equal(0, status.ExitCode);
        Assert.Contains("omd is running (pid ", status.Stdout, StringComparison.Ordinal);

        var stop = Run(script, "stop");
        Assert.True(stop.ExitCode == 0, stop.ToString());
        Assert.Contains("sent 0 guests home", stop.Stdout, StringComparison.Ordinal);
        Assert.Contains("brought 0 processes home", stop.Stdout, StringComparison.Ordinal);
        Assert.Equal(3, Run(script, "status").ExitCode);

        Assert.Equal(0, Run(script, "start").ExitCode);
        Assert.False(File.Exists(_dir.File("state/init-stop-switches")));
        // omd shows its own flags in `om status` from its next gossip round on.
        Poll.Until(() => FlagsOfThisNode(script) == "-", TimeSpan.FromSeconds(20), "block and lstay off again after start");
        Assert.Equal(0, Run(script, "stop").ExitCode);
    }

    private static string Script => Path.Join(TestPrograms.RepositoryRoot, "packaging", "init.d", "openmosix");

    /// <summary>The script as install.sh would install it, with om's links and every path under the test directory.</summary>
    private string Prepare()
    {
        var bin = _dir.Subdirectory("bin");
        foreach (var name in new[] { "om", "omd", "mosctl" }) File.CreateSymbolicLink(Path.Join(bin, name), TestPaths.Om);
        foreach (var sub in new[] { "etc/default", "run", "state", "log" }) _dir.Subdirectory(sub);
        Assert.Equal(0, CommandRun.Run(TestPaths.Om, ["keygen", _dir.File("key")]).ExitCode);
        // omd needs its node certificate (node links are mutual TLS): a CA and one for node 1, made by om ca.
        var tls = _dir.Subdirectory("tls");
        Assert.Equal(0, CommandRun.Run(TestPaths.Om, ["ca", "init", "--dir", tls]).ExitCode);
        Assert.Equal(0, CommandRun.Run(TestPaths.Om, ["ca", "issue", "1", "--address", "127.0.0.1", "--dir", tls]).ExitCode);
        var port = Random.Shared.Next(20000, 30000);
        File.WriteAllText(_dir.File("omd.toml"), $"""
            [node]
            id = 1
            address = "127.0.0.1"
            [paths]
            map = ""
            key = "{_dir.File("key")}"
            tls_dir = "{tls}"
            socket = "{_dir.File("run/omd.sock")}"
            state_dir = "{_dir.File("state")}"
            [gossip]
            port = {port}
            [migration]
            port = {port + 1}
            [speed]
            override = 10000
            """);
        File.WriteAllText(_dir.File("etc/default/openmosix"), $"""
            OMD_OPTIONS="--config {_dir.File("omd.toml")}"
            OMDISCD=no
            RUN={_dir.File("run")}
            STATE={_dir.File("state")}
            LOG={_dir.File("log")}
            export OM_SOCKET={_dir.File("run/omd.sock")}
            """);
        var script = File.ReadAllText(Script).Replace("BIN=/usr/local/bin", $"BIN={bin}", StringComparison.Ordinal)
            .Replace("@ETC@", _dir.File("etc"), StringComparison.Ordinal);
        File.WriteAllText(_dir.File("openmosix"), script);
        return _dir.File("openmosix");
    }

    private static string FlagsOfThisNode(string script) =>
        Run(script, "status").Stdout.Split('\n').Single(l => l.Split(' ')[0].EndsWith('*')).Split(' ', StringSplitOptions.RemoveEmptyEntries)[9];

    private static CommandResult Run(string script, string command) => CommandRun.Run("sh", [script, command], timeout: TimeSpan.FromSeconds(90));
}
