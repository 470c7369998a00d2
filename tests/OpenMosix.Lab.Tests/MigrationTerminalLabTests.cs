using OpenMosix.Lab.Tests.Support;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>Moved programs and their terminal (tmux plays the user's terminal at home).</summary>
[Collection(MigrationLab.ForwardingCollection)]
public sealed class MigrationTerminalLabTests(MigrationLab fixture)
{
    private readonly TestLab _lab = fixture.Lab;

    [Fact]
    public void An_interactive_program_in_a_terminal_keeps_answering_while_it_runs_on_another_node()
    {
        var session = $"om{Guid.NewGuid():N}"[..12];
        string Screen() => CommandRun.Run("tmux", ["-L", session, "capture-pane", "-t", session, "-p"]).Stdout;
        void Type(string keys) => CommandRun.Run("tmux", ["-L", session, "send-keys", "-t", session, keys, "Enter"]);
        var started = CommandRun.Run("tmux", ["-L", session, "new-session", "-d", "-s", session, "-x", "100", "-y", "30",
            $"{Om.Path} lab exec --name {_lab.Name} 1 -- {Om.Path} run /usr/bin/bc -l; echo EXITED $?; sleep 60"]);
        Assert.True(started.ExitCode == 0, started.ToString());
        try
        {
            Type("2+2");
            Poll.Until(() => Screen().Split('\n').Any(l => l.Trim() == "4"), TimeSpan.FromSeconds(20), "bc to answer 4 at home");
            var bc = _lab.Processes(1).Processes.Single(p => p.Command.Contains("/usr/bin/bc", StringComparison.Ordinal) && p.State == "home");
            _lab.Migrate(1, bc.Pid, "2");
            Type("3*7");
            // bc block-buffers its output unless it sees a terminal: an answer per line shows the copy got one.
            Poll.Until(() => Screen().Split('\n').Any(l => l.Trim() == "21"), TimeSpan.FromSeconds(20), "bc to answer 21 from node 2");
            Assert.Equal("remote", _lab.Processes(1).Processes.Single(p => p.Pid == bc.Pid).State);
            Type("quit");
            Poll.Until(() => Screen().Contains("EXITED 0", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "bc to quit with status 0");
        }
        finally
        {
            CommandRun.Run("tmux", ["-L", session, "kill-session", "-t", session]);
        }
    }

    /// <summary>
    /// After the move the program still owns its terminal: a resize reaches it with the new size, the modes it sets
    /// remotely (cbreak: no echo, a key at a time) take effect on the real terminal at home, and back again, and ^D
    /// is one end of input, not the end of the terminal.
    /// </summary>
    [Fact]
    public void A_moved_program_sees_terminal_resizes_and_its_terminal_mode_changes_take_effect_at_home()
    {
        const string Script = """
            import os, signal, termios, tty
            signal.signal(signal.SIGWINCH, lambda *a: print("size %dx%d" % tuple(os.get_terminal_size()), flush=True))
            print("ready", flush=True)
            print("got", os.read(0, 100).decode().strip(), flush=True)
            old = termios.tcgetattr(0)
            tty.setcbreak(0)
            print("cbreak", flush=True)
            print("char", os.read(0, 1).decode(), flush=True)
            termios.tcsetattr(0, termios.TCSADRAIN, old)
            print("got", os.read(0, 100).decode().strip(), flush=True)
            print("eof", len(os.read(0, 100)), flush=True)
            print("got", os.read(0, 100).decode().strip(), flush=True)
            """;
        var script = Path.Combine(_lab.Layout.NodeDirectory(1), $"tty-{Guid.NewGuid():N}.py");
        File.WriteAllText(script, Script);
        var session = $"om{Guid.NewGuid():N}"[..12];
        List<string> Lines() => [.. CommandRun.Run("tmux", ["-L", session, "capture-pane", "-t", session, "-p"]).Stdout.Split('\n').Select(l => l.Trim())];
        void Keys(params string[] keys) => CommandRun.Run("tmux", ["-L", session, "send-keys", "-t", session, .. keys]);
        void Shows(string line, string what) => Poll.Until(() => Lines().Contains(line), TimeSpan.FromSeconds(20), what);
        var started = CommandRun.Run("tmux", ["-L", session, "new-session", "-d", "-s", session, "-x", "100", "-y", "30",
            $"{Om.Path} lab exec --name {_lab.Name} 1 -- {Om.Path} run /usr/bin/python3 {script}; echo EXITED $?; sleep 60"]);
        Assert.True(started.ExitCode == 0, started.ToString());
        try
        {
            Shows("ready", "the program to start");
            var python = _lab.Processes(1).Processes.Single(p => p.Command.Contains(script, StringComparison.Ordinal));
            _lab.Migrate(1, python.Pid, "2");
            CommandRun.Run("tmux", ["-L", session, "resize-window", "-t", session, "-x", "90", "-y", "25"]);
            Shows("size 90x25", "the moved program to see the new window size");
            Keys("hello", "Enter");
            Shows("got hello", "a line typed at home to reach the program");
            Assert.Single(Lines(), l => l == "hello");
            Shows("cbreak", "the program to switch its terminal to cbreak");
            Keys("x");
            Shows("char x", "a single key to reach the program without Enter");
            Assert.DoesNotContain("x", Lines());
            Assert.Equal("remote", _lab.Processes(1).Processes.Single(p => p.Pid == python.Pid).State);
            Keys("bye", "Enter");
            Shows("got bye", "the terminal to be back in line mode");
            Assert.Single(Lines(), l => l == "bye");
            // ^D is an empty read for the program, and the terminal stays usable after it.
            Keys("C-d");
            Shows("eof 0", "^D to reach the program as an end of input");
            Keys("again", "Enter");
            Shows("got again", "input after ^D to reach the program");
            Shows("EXITED 0", "the program to end with status 0");
        }
        finally
        {
            CommandRun.Run("tmux", ["-L", session, "kill-session", "-t", session]);
        }
    }
}
