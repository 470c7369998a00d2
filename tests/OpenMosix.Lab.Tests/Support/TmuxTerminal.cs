using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests.Support;

/// <summary>A tmux session playing the user's terminal at home: keys typed into it, its screen read back. Each on a
/// server of its own (-L): on the shared one, a test ending its last session stopped the server under another test's
/// new-session ("server exited unexpectedly", in CI).</summary>
internal sealed class TmuxTerminal : IDisposable
{
    private readonly string _session = $"om{Guid.NewGuid():N}"[..12];

    private TmuxTerminal()
    {
    }

    /// <summary>A 150x50 terminal running <paramref name="command"/> (through sh).</summary>
    public static TmuxTerminal Start(string command)
    {
        var terminal = new TmuxTerminal();
        var started = CommandRun.Run("tmux", ["-L", terminal._session, "new-session", "-d", "-s", terminal._session, "-x", "150", "-y", "50", command]);
        Assert.True(started.ExitCode == 0, started.ToString());
        return terminal;
    }

    /// <summary>The screen and the last <paramref name="history"/> lines scrolled off it (tmux keeps 2000).</summary>
    public List<string> Lines(int history = 200) =>
        [.. CommandRun.Run("tmux", ["-L", _session, "capture-pane", "-t", _session, "-p", "-S", $"-{history}"]).Stdout.Split('\n').Select(l => l.TrimEnd())];

    /// <summary>The path of the pseudo-terminal the session's program runs on (its slave): what the user's terminal
    /// holds can be asked of it (its input queue).</summary>
    public string PaneTerminal() =>
        CommandRun.Run("tmux", ["-L", _session, "display-message", "-p", "-t", _session, "#{pane_tty}"]).Stdout.Trim();

    /// <summary>Types <paramref name="line"/> and Enter.</summary>
    public void Type(string line) => CommandRun.Run("tmux", ["-L", _session, "send-keys", "-t", _session, line, "Enter"]);

    /// <summary>One key in tmux's names (C-c, C-z).</summary>
    public void Key(string key) => CommandRun.Run("tmux", ["-L", _session, "send-keys", "-t", _session, key]);

    /// <summary>Waits for a line <paramref name="line"/> accepts; fails with <paramref name="what"/> and the screen's end.</summary>
    public void Shows(Func<string, bool> line, string what)
    {
        try
        {
            Poll.Until(() => Lines().Any(line), TimeSpan.FromSeconds(30), what);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; the terminal shows:\n{string.Join('\n', Lines().Where(l => l.Length > 0).TakeLast(12))}", e);
        }
    }

    public void Dispose() => CommandRun.Run("tmux", ["-L", _session, "kill-session", "-t", _session]);
}
