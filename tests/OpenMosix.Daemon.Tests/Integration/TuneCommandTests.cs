using OpenMosix.Admin;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Integration;

/// <summary>mosctl gettune / getdecay / setdecay against a real omd (loopback, no lab).</summary>
public sealed class TuneCommandTests
{
    [Fact]
    public void Gettune_prints_the_configured_tunables_one_per_line_with_their_units()
    {
        using var cluster = new LoopbackCluster(1);
        File.AppendAllText(cluster.ConfigPath(1), "\n[balance]\nmargin = 0.3\nlink_mb_per_second = 12.5\ncooldown_ms = 8000\n");
        cluster.Start(1);
        var run = cluster.Om(1, "mosctl", "gettune");
        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = run.Stdout.TrimEnd().Split('\n').Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries))).ToList();
        Assert.Equal(18, lines.Count);
        Assert.Contains("margin 0.3 fraction", lines);
        Assert.Contains("link_mb_per_second 12.5 MB/s", lines);
        Assert.Contains("cooldown_ms 8000 ms", lines);
        Assert.Contains("cost_factor 2 times", lines);
        Assert.Contains("usher_below_free_percent 10 %", lines);
        Assert.Contains("usher_lookahead_max_ms 30000 ms", lines);
        Assert.Contains("slow_half_life_ms 60000 ms", lines);
    }

    [Fact]
    public void Setdecay_changes_the_half_lives_of_the_running_daemon()
    {
        using var cluster = new LoopbackCluster(1);
        cluster.Start(1);
        Assert.Equal("slow 60 s\nfast 4 s\ndefault fast\n", Squeezed(cluster.Om(1, "mosctl", "getdecay").Stdout));

        var set = cluster.Om(1, "mosctl", "setdecay", "30", "1.5");
        Assert.True(set.ExitCode == 0, set.ToString());
        Assert.Equal("slow 30 s\nfast 1.5 s\ndefault fast\n", Squeezed(set.Stdout));
        Assert.Equal("slow 30 s\nfast 1.5 s\ndefault fast\n", Squeezed(cluster.Om(1, "mosctl", "getdecay").Stdout));
        Assert.Contains("fast_half_life_ms 1500 ms\n", Squeezed(cluster.Om(1, "mosctl", "gettune").Stdout), StringComparison.Ordinal);
    }

    [Fact]
    public void Only_root_may_set_the_decay_but_anyone_may_read_it()
    {
        using var cluster = new LoopbackCluster(1);
        cluster.Start(1);
        var env = new Dictionary<string, string> { ["OM_SOCKET"] = cluster.SocketPath(1) };
        string[] asNobody = ["--reuid=65534", "--regid=65534", "--clear-groups", OmBinary.Path];
        var set = CommandRun.Run("setpriv", [.. asNobody, "mosctl", "setdecay", "30", "2"], env);
        Assert.Equal((1, "om: only root may change the decay half-lives (you are uid 65534)\n"), (set.ExitCode, set.Stderr));
        var read = CommandRun.Run("setpriv", [.. asNobody, "mosctl", "getdecay"], env);
        Assert.Equal((0, "slow 60 s\nfast 4 s\ndefault fast\n"), (read.ExitCode, Squeezed(read.Stdout)));
    }

    [Fact]
    public async Task The_api_refuses_decay_and_hints_the_cli_would_not_send()
    {
        using var cluster = new LoopbackCluster(1);
        cluster.Start(1);
        using var client = cluster.Client(1);
        var cancel = TestContext.Current.CancellationToken;
        var inverted = await Assert.ThrowsAsync<AdminException>(() => client.SetDecayAsync(2, 30, cancel));
        Assert.Equal("the fast half-life (30 s) must not be longer than the slow one (2 s)", inverted.Message);
        var huge = await Assert.ThrowsAsync<AdminException>(() => client.SetDecayAsync(1e300, 4, cancel));
        Assert.Equal("the slow half-life must be between 0.1 s and 86400 s (got 1000000000 s)", huge.Message);
        // Refused before registering: the test host itself must not become a managed process.
        var decay = await Assert.ThrowsAsync<AdminException>(() => client.RegisterSelfAsync(new RunRequest(0, [], false, false, false, Decay: "medium"), cancel));
        Assert.Equal("no such decay 'medium' (slow, fast, none)", decay.Message);
        var hint = await Assert.ThrowsAsync<AdminException>(() => client.RegisterSelfAsync(new RunRequest(0, [], false, false, false, Hint: "gpu"), cancel));
        Assert.Equal("no such job hint 'gpu' (cpu, io)", hint.Message);
    }

    private static string Squeezed(string text) =>
        string.Concat(text.Split('\n').Select(l => l.Length == 0 ? "" : string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries)) + "\n"));
}
