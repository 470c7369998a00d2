using System.Text.Json;
using OpenMosix.Admin;
using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// mosmon (`om mon`) in a 3-node lab: the frame a script gets with --once and --json, and the full-screen monitor in a
/// real terminal (tmux plays it) with the original's keys, a dead node, and the terminal given back on q.
/// </summary>
public sealed class MonitorLabTests
{
    [Fact]
    public void Mosmon_shows_every_node_switches_bars_by_key_marks_a_dead_node_and_gives_the_terminal_back()
    {
        using var lab = TestLab.WithDaemons(3, "--timeout", "15", "--no-balance");

        var once = lab.Exec(1, Om.Path, "mon", "--once").Succeeded().Stdout.Split('\n');
        Assert.StartsWith("mosmon · load · node 1 · 3 nodes, 0 not up", once[0], StringComparison.Ordinal);
        Assert.Contains(once, l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["1*", "2", "3"]);
        var memory = lab.Exec(1, Om.Path, "mon", "--once", "--mode", "mem").Succeeded().Stdout;
        Assert.Contains("mosmon · memory used of total", memory, StringComparison.Ordinal);
        var json = JsonSerializer.Deserialize(lab.Exec(2, Om.Path, "mon", "--json").Succeeded().Stdout, AdminJsonContext.Default.ClusterView)!;
        Assert.Equal([1, 2, 3], json.Nodes.Select(n => n.Id));

        var session = $"om{Guid.NewGuid():N}"[..12];
        List<string> Screen() => [.. CommandRun.Run("tmux", ["-L", session, "capture-pane", "-t", session, "-p"]).Stdout.Split('\n').Select(l => l.TrimEnd())];
        void Key(string key) => CommandRun.Run("tmux", ["-L", session, "send-keys", "-t", session, key]);
        void Shows(Func<List<string>, bool> screen, string what)
        {
            try
            {
                Poll.Until(() => screen(Screen()), TimeSpan.FromSeconds(30), what);
            }
            catch (TimeoutException e)
            {
                throw new TimeoutException($"{e.Message}; the terminal shows:\n{string.Join('\n', Screen())}", e);
            }
        }
        var started = CommandRun.Run("tmux", ["-L", session, "new-session", "-d", "-s", session, "-x", "100", "-y", "30",
            $"echo BEFORE; {Om.Path} lab exec --name {lab.Name} 1 -- {Om.Path} mon --interval 0.5; echo EXITED $?; sleep 60"]);
        Assert.True(started.ExitCode == 0, started.ToString());
        try
        {
            Shows(s => s[0].StartsWith("mosmon · load · node 1 · 3 nodes", StringComparison.Ordinal)
                       && s.Any(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["1*", "2", "3"]), "the load bars of nodes 1, 2 and 3");
            Key("m");
            Shows(s => s[0].StartsWith("mosmon · memory used of total", StringComparison.Ordinal), "m to switch to memory");
            Key("u");
            Shows(s => s[0].StartsWith("mosmon · utilisation", StringComparison.Ordinal), "u to switch to utilisation");

            Signals.Kill(lab.Status.Nodes.Single(n => n.Id == 3).DaemonPid!.Value, Signals.SIGKILL);
            Shows(s => s[0].Contains("3 nodes, 1 not up", StringComparison.Ordinal)
                       && s.Any(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [_, _, "dead"]), "node 3 shown dead");
            Key("d");
            Shows(s => s.Any(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["1*", "2"]) && s.Any(l => l.Contains("[dead hidden]", StringComparison.Ordinal)),
                "d to hide the dead node");

            Key("q");
            Shows(s => s.Contains("EXITED 0") && s.Contains("BEFORE"), "q to end mosmon and bring back the screen it drew over");
        }
        finally
        {
            CommandRun.Run("tmux", ["-L", session, "kill-session", "-t", session]);
        }
    }
}
