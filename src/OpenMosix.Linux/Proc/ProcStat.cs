using System.Globalization;

namespace OpenMosix.Linux.Proc;

/// <summary>/proc/PID/stat. Fields are numbered as in proc(5): 1 pid, 2 comm, 3 state, ...</summary>
public sealed class ProcStat
{
    private readonly string[] _fields;

    private ProcStat(string[] fields) => _fields = fields;

    public int Pid => (int)Number(1);
    public string Comm => _fields[2];
    public char State => _fields[3][0];
    public int PPid => (int)Number(4);
    public int ProcessGroup => (int)Number(5);
    public int Session => (int)Number(6);
    /// <summary>The foreground process group of its controlling terminal (-1: it has none).</summary>
    public int TerminalForegroundGroup => (int)(long)Number(8);
    public ulong Flags => Number(9);
    /// <summary>When the process started, in clock ticks after boot: with the PID, it names one process for good
    /// (a PID is handed out again once its process is reaped).</summary>
    public ulong StartTime => Number(22);
    public ulong StartStack => Number(28);
    public ulong StartBrk => Number(47);
    /// <summary>The nice value, -20 (first) to 19 (last).</summary>
    public int Nice => (int)(long)Number(19);
    /// <summary>User and system time, in seconds (utime + stime, in clock ticks of 1/100 s).</summary>
    public double CpuSeconds => (Number(14) + Number(15)) / 100.0;
    public int ExitSignalField => (int)Number(38);
    /// <summary>Real-time priority (1-99 under SCHED_FIFO/RR, else 0) and scheduling policy (SCHED_*).</summary>
    public int RealtimePriority => (int)Number(40);
    public int Policy => (int)Number(41);

    /// <summary>PF_KTHREAD: a kernel thread, nothing to checkpoint.</summary>
    public bool IsKernelThread => (Flags & 0x00200000) != 0;

    public ulong Number(int field) =>
        field < _fields.Length && ulong.TryParse(_fields[field], NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v
        : field < _fields.Length && long.TryParse(_fields[field], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var s) ? (ulong)s
        : throw new FormatException($"/proc/PID/stat field {field} missing or not a number");

    // comm may contain spaces and parentheses: it runs from the first '(' to the LAST ')'.
    public static ProcStat Parse(string text)
    {
        var open = text.IndexOf('(', StringComparison.Ordinal);
        var close = text.LastIndexOf(')');
        if (open < 0 || close < open) throw new FormatException("/proc/PID/stat has no (comm)");
        var rest = text[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var fields = new string[3 + rest.Length];
        fields[0] = "";
        fields[1] = text[..open].Trim();
        fields[2] = text[(open + 1)..close];
        for (var i = 0; i < rest.Length; i++) fields[3 + i] = rest[i].Trim();
        return new ProcStat(fields);
    }
}
