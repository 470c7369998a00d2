using System.Diagnostics;
using System.Text;

namespace OpenMosix.Cli.Commands.Monitor;

/// <summary>
/// A full-screen live view (mosmon, mtop): the terminal's alternate screen, redrawn from what omd says every
/// interval, at once on a key and when the terminal changes size; the screen the user had comes back on the way
/// out, whatever ends the loop. Only escape sequences every terminal emulator (and ssh) carries: home, clear to end
/// of line/screen, the alternate screen and the cursor's visibility. While omd does not answer, the last picture
/// stays, with the reason.
/// </summary>
internal sealed class LiveScreen<TData, TState>(
    Func<TData> ask,
    Func<TData?, string?, TState, int, int, IReadOnlyList<string>> render,
    Func<TState, ConsoleKeyInfo, TState> apply,
    TimeSpan interval)
    where TData : class
{
    private const string Enter = "\e[?1049h\e[?25l", Leave = "\e[?25h\e[?1049l", Home = "\e[H", ClearLine = "\e[K", ClearBelow = "\e[J";
    private static readonly TimeSpan KeyPoll = TimeSpan.FromMilliseconds(50);

    /// <param name="name">the classic name, for the message when there is no terminal.</param>
    public static void EnsureTerminal(string name)
    {
        if (Console.IsInputRedirected || Console.IsOutputRedirected)
            throw new UsageException($"{name} draws on a terminal; for scripts use --once or --json");
    }

    /// <summary>The interval a person asked for with --interval, checked: 0.1 to 3600 seconds.</summary>
    public static TimeSpan Interval(double seconds) =>
        seconds is >= 0.1 and <= 3600
            ? TimeSpan.FromSeconds(seconds)
            : throw new UsageException($"--interval {seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}: give 0.1 to 3600 seconds");

    public void Run(TState state)
    {
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

    private void Loop(TState state, TextWriter output)
    {
        TData? data = null;
        string? error = null;
        var asked = Stopwatch.StartNew();
        var first = true;
        var size = (Console.WindowWidth, Console.WindowHeight);
        while (true)
        {
            if (first || asked.Elapsed >= interval)
            {
                (data, error) = Ask(data);
                asked.Restart();
                Draw(data, error, state, output);
                first = false;
            }
            if (Console.KeyAvailable)
            {
                var key = Console.ReadKey(intercept: true);
                if (Quits(key)) return;
                state = apply(state, key);
                Draw(data, error, state, output);
                continue;
            }
            if ((Console.WindowWidth, Console.WindowHeight) != size)
            {
                size = (Console.WindowWidth, Console.WindowHeight);
                Draw(data, error, state, output);
            }
            Thread.Sleep(KeyPoll);
        }
    }

    private (TData?, string?) Ask(TData? last)
    {
        try
        {
            return (ask(), null);
        }
        catch (Exception e) when (e is AdminException or IOException or TimeoutException or HttpRequestException or TaskCanceledException)
        {
            return (last, ErrorMessages.Describe(e));
        }
    }

    private void Draw(TData? data, string? error, TState state, TextWriter output)
    {
        var lines = render(data, error, state, Console.WindowWidth, Console.WindowHeight);
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
}
