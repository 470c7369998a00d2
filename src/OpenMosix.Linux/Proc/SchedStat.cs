using System.Globalization;

namespace OpenMosix.Linux.Proc;

/// <summary>/proc/PID/schedstat of a process's main thread: nanoseconds run on a CPU and nanoseconds spent runnable
/// but waiting for one. Their sum is how long it wanted a CPU, whatever it got: on a crowded node a CPU-bound process
/// runs little but waits the rest, while a sleeping one does neither.</summary>
public readonly record struct SchedStat(TimeSpan Running, TimeSpan Waiting)
{
    public TimeSpan Wanting => Running + Waiting;

    public static SchedStat Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (words.Length < 2) throw new FormatException($"/proc/PID/schedstat has {words.Length} fields");
        return new SchedStat(FromNanoseconds(words[0]), FromNanoseconds(words[1]));
    }

    public static SchedStat Read(int pid) => Parse(ProcFs.ReadText(pid, "schedstat"));

    private static TimeSpan FromNanoseconds(string word) =>
        TimeSpan.FromTicks((long)(ulong.Parse(word, NumberStyles.None, CultureInfo.InvariantCulture) / 100));
}
