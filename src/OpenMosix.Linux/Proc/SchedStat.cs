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

    /// <summary>The sum over every thread of <paramref name="pid"/> (/proc/PID/task/TID/schedstat), and whether one of
    /// them is runnable now (state R in its stat): its wait is only added to schedstat once it gets a CPU, so a busy
    /// thread kept off the CPUs of a crowded node shows no new time until then. A thread that ends while they are read
    /// is left out.</summary>
    public static (SchedStat Sum, bool AnyRunnable) ReadAllThreads(int pid)
    {
        var (running, waiting, runnable) = (TimeSpan.Zero, TimeSpan.Zero, false);
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                var one = Parse(File.ReadAllText(Path.Combine(task, "schedstat")));
                (running, waiting) = (running + one.Running, waiting + one.Waiting);
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                var state = stat.LastIndexOf(')') + 2;
                runnable |= state > 1 && state < stat.Length && stat[state] == 'R';
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Ended meanwhile: it wants no CPU any more.
            }
        }
        return (new SchedStat(running, waiting), runnable);
    }

    private static TimeSpan FromNanoseconds(string word) =>
        TimeSpan.FromTicks((long)(ulong.Parse(word, NumberStyles.None, CultureInfo.InvariantCulture) / 100));
}
