using System.Globalization;
using System.Text;
using OpenMosix.Linux;

namespace OpenMosix.Cli.Tests.Support;

/// <summary>
/// `sleeper usr1 MS`: ticks until the test sends SIGUSR1, so a checkpoint of it can never come after its end (a
/// `sleeper 40 50` ended within its 2 s at load 100, before `om checkpoint` reached it). Its output for N ticks is
/// what an uninterrupted `sleeper N MS` prints, so a run is still compared with a reference run of as many ticks.
/// </summary>
internal static class HeldSleeper
{
    private const string DoneLine = "sleeper done ticks=";

    public static ProcessSpec Spec(string dir, int ms) =>
        CompiledProgramRestoreTests.Target(dir, "sleeper", "usr1", ms.ToString(CultureInfo.InvariantCulture));

    /// <summary>Lets it end: the signal interrupts its sleep, it prints that tick and its last line and exits 0.</summary>
    public static void Release(int pid) => Signals.Kill(pid, Signals.SIGUSR1);

    /// <summary>How many ticks a whole run printed, from its last line.</summary>
    public static int Ticks(byte[] output)
    {
        var text = Encoding.ASCII.GetString(output);
        var at = text.LastIndexOf(DoneLine, StringComparison.Ordinal);
        Assert.True(at >= 0, $"the sleeper's output has no '{DoneLine}N' line: {text}");
        var digits = text[(at + DoneLine.Length)..].TrimEnd('\n');
        return int.Parse(digits, CultureInfo.InvariantCulture);
    }

    /// <summary>An uninterrupted `sleeper TICKS MS`: what a held run of as many ticks must print.</summary>
    public static Task<ProgramOutcome> ReferenceAsync(int ticks, int ms)
    {
        string[] arguments = [ticks.ToString(CultureInfo.InvariantCulture), ms.ToString(CultureInfo.InvariantCulture)];
        var key = "sleeper " + string.Join(' ', arguments);
        return ReferenceCache.GetAsync(key, () => CheckpointFlow.RunUninterruptedAsync(new Scenario
        {
            Key = key,
            Command = dir => CompiledProgramRestoreTests.Target(dir, "sleeper", arguments),
            Ready = _ => true,
            ReadyDescription = "",
        }));
    }
}
