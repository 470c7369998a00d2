using System.Diagnostics;

namespace OpenMosix.TestSupport;

/// <summary>Waiting on a condition with a bounded timeout (instead of sleeping and hoping).</summary>
public static class Poll
{
    public static void Until(Func<bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout) throw new TimeoutException($"timed out after {timeout.TotalSeconds:F0} s waiting for {what}");
            Thread.Sleep(5);
        }
    }

    /// <summary>Waits until <paramref name="path"/> has at least <paramref name="lines"/> complete lines.</summary>
    public static void UntilLines(string path, int lines, TimeSpan timeout) =>
        Until(() => File.Exists(path) && CountLines(path) >= lines, timeout, $"{lines} lines in {path}");

    public static int CountLines(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var count = 0;
        int b;
        while ((b = stream.ReadByte()) >= 0) if (b == '\n') count++;
        return count;
    }
}
