using OpenMosix.Cli.Tests.Support;
using OpenMosix.TestSupport;

namespace OpenMosix.Cli.Tests;

/// <summary>Long work shows its progress on a terminal (script(1) gives om one) and never on a pipe.</summary>
public sealed class ProgressTests
{
    [Fact]
    public void A_checkpoint_on_a_terminal_shows_bytes_and_rate_then_erases_them_before_its_result_and_says_nothing_of_it_on_a_pipe()
    {
        using var dir = new TempDirectory();
        using var child = ChildProcess.StartToFile(TestPrograms.Locate("memticker"), ["64", "400", "50"], dir.File("out"));
        Poll.Until(() => File.ReadAllText(dir.File("out")).Contains("ready", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "memticker to fill its memory");

        var onTerminal = CommandRun.Run("/usr/bin/script", ["-q", "-e", "-c", $"{TestPaths.Om} checkpoint {child.Pid} -o {dir.File("a.img")}", "/dev/null"]);
        Assert.True(onTerminal.ExitCode == 0, onTerminal.ToString());
        var screen = onTerminal.Stdout;
        var shown = screen.IndexOf($"om: checkpoint of PID {child.Pid}: ", StringComparison.Ordinal);
        Assert.True(shown >= 0, $"no progress line on the terminal: {screen}");
        Assert.Contains(" MiB/s", screen[shown..], StringComparison.Ordinal);
        var erased = screen.IndexOf("\r\e[K", shown, StringComparison.Ordinal);
        var result = screen.IndexOf($"om: checkpointed PID {child.Pid}:", StringComparison.Ordinal);
        Assert.True(erased > shown && result > erased, $"the progress line was not erased before the result: {screen}");

        var piped = CommandRun.Run(TestPaths.Om, ["checkpoint", $"{child.Pid}", "-o", dir.File("b.img")]);
        Assert.True(piped.ExitCode == 0, piped.ToString());
        Assert.StartsWith($"om: checkpointed PID {child.Pid}:", piped.Stderr, StringComparison.Ordinal);
        Assert.Single(piped.Stderr.TrimEnd('\n').Split('\n'));
        Assert.DoesNotContain("MiB/s", piped.Stderr, StringComparison.Ordinal);
    }
}
