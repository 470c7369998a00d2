using System.Text.Json;
using OpenMosix.Cli.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Cli.Tests;

/// <summary>
/// Every om command that prints data can print it as one JSON document (--json), so scripts never parse tables; the
/// commands without it are listed here with the reason. The JSON of the commands that need no omd is parsed here; the
/// ones that talk to omd are in OpenMosix.Daemon.Tests (JsonCommandTests), the lab's in OpenMosix.Lab.Tests.
/// </summary>
public sealed class JsonOutputTests
{
    /// <summary>The commands that print no data of their own, and why.</summary>
    private static readonly Dictionary<string, string> WithoutJson = new(StringComparer.Ordinal)
    {
        ["daemon"] = "runs omd in the foreground: all it prints is its log",
        ["discover"] = "runs omdiscd: all it prints is its log, or one notice that it went to the background",
        ["run"] = "becomes the program it starts: what is printed then is the program's",
        ["lab exec"] = "becomes the command it runs in the node",
        ["completion"] = "prints a shell script, not data",
        ["keygen"] = "prints only the path it was given; `om key list --json` describes the keyring it wrote",
    };

    [Fact]
    public void Every_command_that_prints_data_has_a_json_option()
    {
        var paths = OmCommandTree.Paths();
        var commands = paths.Where(p => !paths.Any(other => other.StartsWith(p + " ", StringComparison.Ordinal))).ToList();

        var missing = commands.Where(c => !WithoutJson.ContainsKey(c) && !OmCommandTree.Options(c.Split(' ')).Contains("--json")).ToList();
        var excusedNeedlessly = WithoutJson.Keys.Where(c => !commands.Contains(c) || OmCommandTree.Options(c.Split(' ')).Contains("--json")).ToList();

        Assert.True(missing.Count == 0, "no --json on: " + string.Join(", ", missing.Select(c => $"om {c}")));
        Assert.True(excusedNeedlessly.Count == 0, "listed as without --json but not a command without it: " + string.Join(", ", excusedNeedlessly));
    }

    [Fact]
    public async Task Key_list_rotate_and_retire_print_the_keyring_by_ids_and_times_never_its_secrets()
    {
        using var dir = new TempDirectory();
        var path = dir.File("cluster.key");
        Assert.Equal(0, (await OmCli.RunAsync(["keygen", path])).ExitCode);

        var rotated = Json(await OmCli.RunAsync(["key", "rotate", path, "--activate-after", "0", "--json"]));
        Assert.Equal((path, 2, 2), (rotated.GetProperty("path").GetString(), rotated.GetProperty("added").GetInt32(), rotated.GetProperty("keys").GetArrayLength()));
        var listed = Json(await OmCli.RunAsync(["key", "list", path, "--json"]));
        Assert.Equal(2, listed.GetProperty("sending").GetInt32());
        Assert.Equal([1, 2], listed.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("id").GetInt32()));
        Assert.False(listed.TryGetProperty("added", out _));
        Assert.True(listed.GetProperty("keys")[0].GetProperty("created").GetDateTimeOffset() <= DateTimeOffset.UtcNow);
        var retired = Json(await OmCli.RunAsync(["key", "retire", path, "--older-than", "0", "--json"]));
        Assert.Equal([2], retired.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("id").GetInt32()));
        Assert.DoesNotContain("secret", listed.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Ca_init_and_issue_print_the_certificate_they_wrote()
    {
        using var dir = new TempDirectory("om-ca");
        var ca = dir.File("ca");

        var init = Json(await OmCli.RunAsync(["ca", "init", "--dir", ca, "--json"]));
        Assert.Equal((Path.Combine(ca, "ca.crt"), Path.Combine(ca, "ca.key")), (init.GetProperty("certificate").GetString(), init.GetProperty("key").GetString()));
        Assert.True(init.GetProperty("notAfter").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddYears(9));
        Assert.False(init.TryGetProperty("node", out _));
        var issued = Json(await OmCli.RunAsync(["ca", "issue", "2", "--address", "10.77.1.2", "--dir", ca, "--out", dir.File("n2"), "--json"]));
        Assert.Equal((2, "10.77.1.2", Path.Combine(dir.File("n2"), "node.crt")),
            (issued.GetProperty("node").GetInt32(), issued.GetProperty("address").GetString(), issued.GetProperty("certificate").GetString()));
        Assert.False(string.IsNullOrEmpty(issued.GetProperty("subject").GetString()));
    }

    [Fact]
    public async Task Setpe_check_prints_the_file_and_how_many_nodes_it_names()
    {
        using var dir = new TempDirectory();
        var map = dir.File("openmosix.map");
        File.WriteAllText(map, "1 10.77.1.1 3\n");

        var check = Json(await OmCli.RunAsync(["setpe", "-c", "-f", map, "--json"]));

        Assert.Equal((map, 3), (check.GetProperty("file").GetString(), check.GetProperty("nodes").GetInt32()));
    }

    [Fact]
    public async Task Lab_down_prints_for_each_lab_whether_anything_of_it_was_there()
    {
        Assert.SkipUnless(Environment.IsPrivilegedProcess, "om lab needs root");

        var down = Json(await OmCli.RunAsync(["lab", "down", "--name", "nojsonlab", "--json"]));

        var lab = Assert.Single(down.GetProperty("labs").EnumerateArray());
        Assert.Equal(("nojsonlab", false, ""), (lab.GetProperty("name").GetString(), lab.GetProperty("found").GetBoolean(), lab.GetProperty("removed").GetString()));
    }

    [Fact]
    public async Task Restore_detach_prints_the_new_pid_and_the_old_and_refuses_json_while_it_would_wait()
    {
        using var dir = new TempDirectory();
        using var sleeper = ChildProcess.Start(TestPaths.Installed("sleep"), ["60"]);
        var image = dir.File("sleep.omimg");
        var checkpoint = await OmCli.CheckpointAsync(sleeper.Pid, image, kill: true);
        Assert.True(checkpoint.ExitCode == 0, checkpoint.ToString());
        sleeper.WaitForExit(TimeSpan.FromSeconds(30));

        var waiting = await OmCli.RunAsync(["restore", image, "--json"]);
        Assert.Equal((2, "om: --json needs --detach: a process om waits for writes to om's stdout itself\n"), (waiting.ExitCode, waiting.Stderr));

        // The restored process keeps om's stdout: om's exit is awaited, then its four lines of JSON, not the pipe's end.
        using var om = RunningProcess.Start(new ProcessSpec(TestPaths.Om, ["restore", image, "--detach", "--json"], dir.Path));
        om.CloseStdin();
        Assert.Equal(0, await om.WaitForExitAsync(TimeSpan.FromSeconds(30), untilOutputEnds: false));
        await om.WaitForStdoutLinesAsync(4, TimeSpan.FromSeconds(10));
        var restored = JsonDocument.Parse(om.StdoutText).RootElement;
        var pid = restored.GetProperty("pid").GetInt32();
        Assert.True(pid > 0);
        // Killed through a pidfd, taken while /proc shows the restored sleep under its PID: detached, it is init's to
        // reap, and a SIGKILL by PID could hit a later process of the same PID (another test's).
        using var handle = PidFd.Open(pid);
        var ours = File.ReadAllText($"/proc/{pid}/comm").TrimEnd() == "sleep";
        try
        {
            Assert.True(ours, $"process {pid} is not the restored sleep");
            Assert.Equal(sleeper.Pid, restored.GetProperty("originalPid").GetInt32());
        }
        finally
        {
            if (ours) handle.TrySendSignal(Signals.SIGKILL);
        }
    }

    private static JsonElement Json(OmResult run)
    {
        Assert.True(run.ExitCode == 0, run.ToString());
        return JsonDocument.Parse(run.Stdout).RootElement.Clone();
    }
}
