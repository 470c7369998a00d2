using System.Text.Json;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Integration;

public sealed class DaemonCommandTests
{
    [Fact]
    public void Status_json_has_exactly_the_fields_docs_omd_md_documents()
    {
        using var cluster = new LoopbackCluster(2);
        cluster.Start(1, 2);
        Poll.Until(() => cluster.StateSeenBy(1, 2) == "alive", TimeSpan.FromSeconds(10), "node 1 to see node 2 alive");
        var status = cluster.Om(1, "status", "--json");
        Assert.True(status.ExitCode == 0, status.ToString());

        using var documented = JsonDocument.Parse(DocumentedStatusExample());
        using var actual = JsonDocument.Parse(status.Stdout);
        AssertSameShape(documented.RootElement, actual.RootElement, "$");
        Assert.Equal(2, actual.RootElement.GetProperty("nodes").GetArrayLength());
    }

    [Fact]
    public void Status_and_mosctl_print_what_the_daemon_knows()
    {
        using var cluster = new LoopbackCluster(2, speedOverride: 12345);
        cluster.Start(1, 2);
        Poll.Until(() => cluster.StateSeenBy(1, 2) == "alive", TimeSpan.FromSeconds(10), "node 1 to see node 2 alive");

        var table = cluster.Om(1, "status");
        Assert.Matches($@"(?m)^1\*\s+{System.Text.RegularExpressions.Regex.Escape(cluster.Address(1).ToString())}\s+alive\s", table.Stdout);
        Assert.Matches(@"(?m)^2\s+\S+\s+alive\s+\d+\.\d\d\s+12345\s", table.Stdout);
        Assert.Equal("12345", cluster.Om(1, "mosctl", "getspeed", "2").Stdout.Trim());
        Assert.Equal("yes", cluster.Om(1, "mosctl", "isup", "2").Stdout.Trim());
        Assert.Equal("1", cluster.Om(1, "mosctl", "whois").Stdout.Trim());
        Assert.Equal("2", cluster.Om(1, "mosctl", "whois", cluster.Address(2).ToString()).Stdout.Trim());
        Assert.Equal(cluster.Address(2).ToString(), cluster.Om(1, "mosctl", "whois", "2").Stdout.Trim());
        Assert.True(ulong.Parse(cluster.Om(1, "mosctl", "getmem").Stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture) > 0);
        var missing = cluster.Om(1, "mosctl", "isup", "9");
        Assert.Equal((1, "om: node 9 is not in the map\n"), (missing.ExitCode, missing.Stderr));

        var set = cluster.Om(2, "mosctl", "setspeed", "20000");
        Assert.True(set.ExitCode == 0, set.ToString());
        Poll.Until(() => cluster.Om(1, "mosctl", "getspeed", "2").Stdout.Trim() == "20000", TimeSpan.FromSeconds(10),
            "node 1 to learn node 2's new speed through gossip");
    }

    [Fact]
    public void Only_root_may_change_the_map_or_the_speed()
    {
        using var cluster = new LoopbackCluster(1);
        cluster.Start(1);
        var env = new Dictionary<string, string> { ["OM_SOCKET"] = cluster.SocketPath(1) };
        string[] asNobody = ["--reuid=65534", "--regid=65534", "--clear-groups", OmBinary.Path];
        var load = CommandRun.Run("setpriv", [.. asNobody, "setpe", "-w", "-f", cluster.MapPath], env);
        Assert.Equal((1, "om: only root may load a map (you are uid 65534)\n"), (load.ExitCode, load.Stderr));
        var speed = CommandRun.Run("setpriv", [.. asNobody, "mosctl", "setspeed", "5"], env);
        Assert.Equal((1, "om: only root may set the speed (you are uid 65534)\n"), (speed.ExitCode, speed.Stderr));
        var read = CommandRun.Run("setpriv", [.. asNobody, "mosctl", "getspeed"], env);
        Assert.Equal((0, "10000"), (read.ExitCode, read.Stdout.Trim()));
    }

    [Fact]
    public void The_daemon_stops_cleanly_on_sigterm_and_removes_its_socket()
    {
        using var cluster = new LoopbackCluster(1);
        cluster.Start(1);
        Linux.Signals.Kill(cluster.Daemon(1).Pid, Linux.Signals.SIGTERM);
        Assert.Equal(new ChildExit(0, 0), cluster.Daemon(1).WaitForExit(TimeSpan.FromSeconds(10)));
        Assert.False(File.Exists(cluster.SocketPath(1)));
        Assert.Contains("omd stopped", cluster.Log(1), StringComparison.Ordinal);
    }

    [Fact]
    public void A_second_daemon_on_the_same_socket_refuses_to_start()
    {
        using var cluster = new LoopbackCluster(1);
        cluster.Start(1);
        var second = CommandRun.Run(OmBinary.Path, ["daemon", "--config", cluster.ConfigPath(1)]);
        Assert.Equal(1, second.ExitCode);
        Assert.Contains("another omd is already running", second.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[gossip]\nport = 0\n", "bad.toml:4: gossip.port must be between 1 and 65535")]
    [InlineData("[paths]\nkey = \"/nonexistent/key\"\n", "no cluster key at /nonexistent/key: create one with `om keygen")]
    [InlineData("MAP", "bad.map:2: ")]
    [InlineData("LOOSE", "is open to group or others (mode 644): chmod 600 ")]
    public void A_bad_configuration_key_or_map_stops_the_daemon_with_one_line(string config, string expected)
    {
        using var dir = new TempDirectory();
        var key = dir.File("k");
        File.WriteAllBytes(key, new byte[32]);
        File.SetUnixFileMode(key, config == "LOOSE" ? (UnixFileMode)0b110_100_100 : UnixFileMode.UserRead | UnixFileMode.UserWrite);
        if (config == "LOOSE") config = "";
        File.WriteAllText(dir.File("bad.map"), "1 127.0.0.1 1\n2 nonsense 1\n");
        var text = config == "MAP"
            ? $"[paths]\nkey = \"{key}\"\nmap = \"{dir.File("bad.map")}\"\nsocket = \"{dir.File("s")}\"\n"
            : config.Contains("[paths]", StringComparison.Ordinal) ? config : $"[paths]\nkey = \"{key}\"\n" + config;
        File.WriteAllText(dir.File("bad.toml"), text);
        var run = CommandRun.Run(OmBinary.Path, ["daemon", "--config", dir.File("bad.toml")]);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains(expected, run.Stderr, StringComparison.Ordinal);
        Assert.Single(run.Stderr.TrimEnd().Split('\n'));
    }

    [Fact]
    public void Setpe_c_checks_a_map_without_a_daemon_and_names_the_bad_line()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("good.map"), "# two nodes\n1 10.0.0.1 2\n1 ALIAS 10.1.0.1\n");
        File.WriteAllText(dir.File("bad.map"), "1 10.0.0.1 2\n3 10.0.0.2 1\n");
        var good = CommandRun.Run(OmBinary.Path, ["setpe", "-c", "-f", dir.File("good.map")]);
        Assert.Equal((0, $"{dir.File("good.map")}: valid map of 2 nodes\n"), (good.ExitCode, good.Stdout));
        var bad = CommandRun.Run(OmBinary.Path, ["setpe", "-c", "-f", dir.File("bad.map")]);
        Assert.Equal(1, bad.ExitCode);
        Assert.StartsWith($"om: {dir.File("bad.map")}:2:", bad.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("omd", "daemon")]
    [InlineData("omdiscd", "discover")]
    [InlineData("mosctl", "mosctl")]
    [InlineData("setpe", "setpe")]
    [InlineData("showmap", "showmap")]
    public void A_classic_name_runs_its_om_command(string classic, string command)
    {
        using var dir = new TempDirectory();
        var link = dir.File(classic);
        File.CreateSymbolicLink(link, OmBinary.Path);
        var viaLink = CommandRun.Run(link, ["--help"]);
        var viaOm = CommandRun.Run(OmBinary.Path, [command, "--help"]);
        Assert.Equal(0, viaLink.ExitCode);
        // Same help text, apart from the program name in the usage line.
        Assert.Equal(Describe(viaOm.Stdout), Describe(viaLink.Stdout));
        Assert.False(string.IsNullOrWhiteSpace(Describe(viaLink.Stdout)));

        static string Describe(string help) => help.Split("Usage:")[0].Trim();
    }

    [Fact]
    public void Setpe_through_its_classic_name_checks_a_map()
    {
        using var dir = new TempDirectory();
        File.CreateSymbolicLink(dir.File("setpe"), OmBinary.Path);
        File.WriteAllText(dir.File("m"), "1 10.0.0.1 3\n");
        var run = CommandRun.Run(dir.File("setpe"), ["-c", "-f", dir.File("m")]);
        Assert.Equal((0, $"{dir.File("m")}: valid map of 3 nodes\n"), (run.ExitCode, run.Stdout));
    }

    [Fact]
    public void Commands_without_a_running_daemon_say_so_in_one_line()
    {
        using var dir = new TempDirectory();
        var run = CommandRun.Run(OmBinary.Path, ["status"], new Dictionary<string, string> { ["OM_SOCKET"] = dir.File("none.sock") });
        Assert.Equal((1, $"om: omd is not running (nothing listens on {dir.File("none.sock")})\n"), (run.ExitCode, run.Stderr));
    }

    private static string DocumentedStatusExample()
    {
        var doc = File.ReadAllText(Path.Join(TestPrograms.RepositoryRoot, "docs", "omd.md"));
        const string marker = "<!-- status-json -->";
        var start = doc.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(start >= 0, "docs/omd.md has no status-json example");
        var fence = doc.IndexOf("```json", start, StringComparison.Ordinal) + "```json".Length;
        var end = doc.IndexOf("```", fence, StringComparison.Ordinal);
        return doc[fence..end];
    }

    private static void AssertSameShape(JsonElement documented, JsonElement actual, string path)
    {
        Assert.True(Kind(documented) == Kind(actual), $"{path}: documented {Kind(documented)}, got {Kind(actual)}");
        if (documented.ValueKind == JsonValueKind.Object)
        {
            var expectedNames = documented.EnumerateObject().Select(p => p.Name).Order().ToList();
            var actualNames = actual.EnumerateObject().Select(p => p.Name).Order().ToList();
            Assert.True(expectedNames.SequenceEqual(actualNames),
                $"{path}: documented fields [{string.Join(',', expectedNames)}], got [{string.Join(',', actualNames)}]");
            foreach (var property in documented.EnumerateObject())
                AssertSameShape(property.Value, actual.GetProperty(property.Name), $"{path}.{property.Name}");
        }
        else if (documented.ValueKind == JsonValueKind.Array && documented.GetArrayLength() > 0)
        {
            foreach (var item in actual.EnumerateArray())
                AssertSameShape(documented[0], item, $"{path}[]");
        }
    }

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => e.ValueKind.ToString().ToLowerInvariant(),
    };
}
