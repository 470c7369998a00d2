using System.Diagnostics;

namespace OpenMosix.Cli.Tests.Support;

/// <summary>Bounded waits on observable conditions: never sleep-and-hope.</summary>
internal static class Wait
{
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:0.#} s waiting until {what}");
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
    }
}
