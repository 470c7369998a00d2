using System.Text.Json;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Integration;

/// <summary>The mosctl switches survive an omd restart (paths.state_dir), and a damaged state file never stops omd.</summary>
public sealed class SwitchPersistenceTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(10);

    [Fact]
    public void Block_and_stay_are_still_set_after_omd_is_killed_and_started_again()
    {
        using var cluster = new LoopbackCluster(1);
        cluster.Start(1);
        Assert.Equal(0, cluster.Om(1, "mosctl", "block").ExitCode);
        Assert.Equal(0, cluster.Om(1, "mosctl", "stay").ExitCode);

        // SIGKILL, not a clean stop: the switches must already be on disk when mosctl returns.
        cluster.Kill(1);
        cluster.Start(1);

        Poll.Until(() => SelfFlags(cluster).SequenceEqual(["blocked", "stay"]), Settle,
            $"the restarted omd to gossip blocked and stay (log: {cluster.Log(1)})");
        var file = Path.Join(cluster.StateDirectory(1), "switches.json");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.DoesNotContain("switches start off", cluster.Log(1), StringComparison.Ordinal);
    }

    [Fact]
    public void A_corrupt_switch_file_starts_omd_with_every_switch_off_and_one_warning()
    {
        using var cluster = new LoopbackCluster(1);
        Directory.CreateDirectory(cluster.StateDirectory(1));
        var file = Path.Join(cluster.StateDirectory(1), "switches.json");
        File.WriteAllText(file, "{\"version\": 1, \"on\": [\"block\"");
        cluster.Start(1);

        Poll.Until(() => cluster.Log(1).Contains("switches start off", StringComparison.Ordinal), Settle, "the warning in omd's log");
        Assert.Single(cluster.Log(1).Split('\n'), line => line.Contains("switches start off", StringComparison.Ordinal));

        // Only quiet, never the block of the damaged file; and the change writes a good file over the bad one.
        Assert.Equal(0, cluster.Om(1, "mosctl", "quiet").ExitCode);
        Poll.Until(() => SelfFlags(cluster).SequenceEqual(["quiet"]), Settle, "omd to gossip quiet alone");
        using var saved = JsonDocument.Parse(File.ReadAllText(file));
        Assert.Equal(1, saved.RootElement.GetProperty("version").GetInt32());
        Assert.Equal(["quiet"], saved.RootElement.GetProperty("on").EnumerateArray().Select(e => e.GetString()));
    }

    private static IReadOnlyList<string> SelfFlags(LoopbackCluster cluster) =>
        cluster.View(1).Nodes.Single(n => n.IsSelf).Flags;
}
