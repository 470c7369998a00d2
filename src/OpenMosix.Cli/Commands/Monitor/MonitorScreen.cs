using System.Diagnostics;
using System.Text;
using OpenMosix.Admin;
using OpenMosix.Cli.Infrastructure;

namespace OpenMosix.Cli.Commands.Monitor;

/// <summary>
/// mosmon's full screen: the terminal's alternate screen, redrawn from omd's view every interval, at once on a key and
/// when the terminal changes size; the screen the user had comes back on the way out, whatever ends the loop.
/// Only escape sequences every terminal emulator (and ssh) carries: home, clear to end of line/screen, the alternate
/// screen and the cursor's visibility.
/// </summary>
internal sealed class MonitorScreen(AdminClient client, TimeSpan interval)
{
    private const string Enter = "\e[?1049h\e[?25l", Leave = "\e[?25h\e[?1049l", Home = "\e[H", ClearLine = "\e[K", ClearBelow = "\e[J";
    private static readonly TimeSpan KeyPoll = TimeSpan.FromMilliseconds(50);

    public static void EnsureTerminal()
    {
        if (Console.IsInputRedirected || Console.IsOutputRedirected)
            throw new UsageException("mosmon draws on a terminal; for scripts use --once or --json");
    }

    public void Run(MonitorState state)
    {
        EnsureTerminal();
        var output = Console.Out;
        Console.OutputEncoding = Encoding.UTF8;
        Console.TreatControlCAsInput = true;
        output.Write(Enter);
        try
        {
            Loop(state, output);
        }
        finally
        {
            output.Write(Leave);
            output.Flush();
        }
    }

    private void Loop(MonitorState state, TextWriter output)
    {
        ClusterView? view = null;
        string? error = null;
        var asked = Stopwatch.StartNew();
        var first = true;
        var size = (Console.WindowWidth, Console.WindowHeight);
        while (true)
        {
            if (first || asked.Elapsed >= interval)
            {
                (view, error) = Ask(view);
                asked.Restart();
                Draw(view, error, state, output);
                first = false;
            }
            if (Console.KeyAvailable)
            {
                var key = Console.ReadKey(intercept: true);
                if (Quits(key)) return;
                state = Apply(state, key);
                Draw(view, error, state, output);
                continue;
            }
            if ((Console.WindowWidth, Console.WindowHeight) != size)
            {
                size = (Console.WindowWidth, Console.WindowHeight);
                Draw(view, error, state, output);
            }
            Thread.Sleep(KeyPoll);
        }
    }

    /// <summary>omd's view now; while it does not answer, the last view stays on screen with the reason beside it.</summary>
    private (ClusterView?, string?) Ask(ClusterView? last)
    {
        try
        {
            return (client.NodesAsync().GetAwaiter().GetResult(), null);
        }
        catch (Exception e) when (e is AdminException or IOException or TimeoutException or HttpRequestException or TaskCanceledException)
        {
            return (last, ErrorMessages.Describe(e));
        }
    }

    private static void Draw(ClusterView? view, string? error, MonitorState state, TextWriter output)
    {
        var lines = MonitorFrame.Render(view, error, state, Console.WindowWidth, Console.WindowHeight, DateTime.Now);
        var screen = new StringBuilder(Home);
        for (var i = 0; i < lines.Count; i++)
        {
            screen.Append(lines[i]).Append(ClearLine);
            if (i < lines.Count - 1) screen.Append("\r\n");
        }
        output.Write(screen.Append(ClearBelow).ToString());
        output.Flush();
    }

    private static bool Quits(ConsoleKeyInfo key) =>
        key.KeyChar is 'q' or 'Q' || key.Key == ConsoleKey.Escape || (key.Key == ConsoleKey.C && key.Modifiers.HasFlag(ConsoleModifiers.Control));

    /// <summary>The original's keys: l, s, m, u choose the bars, d shows or hides dead nodes; arrows scroll a wide cluster.</summary>
    public static MonitorState Apply(MonitorState state, ConsoleKeyInfo key) => key.Key switch
    {
        ConsoleKey.LeftArrow => state with { FirstColumn = Math.Max(0, state.FirstColumn - 1) },
        ConsoleKey.RightArrow => state with { FirstColumn = state.FirstColumn + 1 },
        _ when char.ToLowerInvariant(key.KeyChar) == 'd' => state with { ShowDead = !state.ShowDead, FirstColumn = 0 },
        _ when MonitorModes.FromKey(key.KeyChar) is { } mode => state with { Mode = mode },
        _ => state,
    };
}
