using System.Globalization;

namespace OpenMosix.Linux.Proc;

/// <summary>Readers for /proc/PID files. A vanished process becomes a <see cref="ProcessAccessException"/>.</summary>
public static class ProcFs
{
    public static string Path(int pid, string file) => $"/proc/{pid}/{file}";

    public static string ReadText(int pid, string file) => Read(pid, file, File.ReadAllText);

    public static byte[] ReadBytes(int pid, string file) => Read(pid, file, File.ReadAllBytes);

    private static T Read<T>(int pid, string file, Func<string, T> read)
    {
        try
        {
            return read(Path(pid, file));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ProcessAccessException(pid, "no such process");
        }
        catch (UnauthorizedAccessException)
        {
            throw new ProcessAccessException(pid, "permission denied");
        }
        catch (IOException e) when ((Errno)e.HResult == Errno.ESRCH)
        {
            throw new ProcessAccessException(pid, "no such process");
        }
    }

    /// <summary>Checks that the process exists and can be inspected; throws a one-line error otherwise.</summary>
    public static void RequireProcess(int pid)
    {
        if (pid <= 0) throw new ProcessAccessException(pid, "not a valid process id");
        if (!Directory.Exists($"/proc/{pid}")) throw new ProcessAccessException(pid, "no such process");
        _ = ReadText(pid, "stat");
    }

    public static List<MapsEntry> ReadMaps(int pid) => MapsParser.Parse(ReadText(pid, "maps"));
    public static ProcStatus ReadStatus(int pid) => ProcStatus.Parse(ReadText(pid, "status"));
    public static ProcStat ReadStat(int pid) => ProcStat.Parse(ReadText(pid, "stat"));

    /// <summary>Whether <paramref name="pid"/> has exited: a zombie (or dying) not yet reaped, or gone from /proc (a
    /// stat that cannot be read or parsed counts as gone: it is no process to go on with).</summary>
    public static bool HasEnded(int pid)
    {
        try
        {
            return ReadStat(pid).State is 'Z' or 'X';
        }
        catch (Exception e) when (e is IOException or ProcessAccessException or UnauthorizedAccessException or FormatException)
        {
            return true;
        }
    }
    public static FdInfo ReadFdInfo(int pid, int fd) => FdInfo.Parse(ReadText(pid, $"fdinfo/{fd}"));

    /// <summary>The fdinfo of a descriptor listed a moment ago, or null when it is not open any more (closed meanwhile,
    /// or its process gone): its missing file is reported by <see cref="ReadText"/> as a missing process, which a
    /// caller that only catches IOException for a closed descriptor would let escape (a shell closing its command
    /// substitution's pipe while it was analysed for a move did).</summary>
    public static FdInfo? ReadFdInfoIfOpen(int pid, int fd)
    {
        try
        {
            return ReadFdInfo(pid, fd);
        }
        catch (Exception e) when (e is IOException or ProcessAccessException)
        {
            return null;
        }
    }
    /// <summary>VmRSS of /proc/PID/status in bytes (0 for a process without memory, such as a zombie).</summary>
    public static long ReadResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines(Path(pid, "status")))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        return 0;
    }

    public static string ReadComm(int pid) => ReadText(pid, "comm").TrimEnd('\n');
    /// <summary>/proc/PID/oom_score_adj: -1000 (never chosen by the OOM killer) to 1000 (chosen first).</summary>
    public static int ReadOomScoreAdjust(int pid) => int.Parse(ReadText(pid, "oom_score_adj").Trim(), CultureInfo.InvariantCulture);
    public static ulong ReadPersonality(int pid) => ulong.Parse(ReadText(pid, "personality").Trim(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
    public static List<(ulong Soft, ulong Hard)> ReadLimits(int pid) => LimitsParser.Parse(ReadText(pid, "limits"));
    public static byte[] ReadAuxv(int pid) => ReadBytes(pid, "auxv");
    public static string ReadWorkingDirectory(int pid) => ReadLink(pid, "cwd");
    public static string ReadExecutable(int pid) => ReadLink(pid, "exe");

    /// <summary>Its command line as one string, or its name (comm) when it has none (a zombie).</summary>
    public static string ReadCommand(int pid)
    {
        var words = ReadCommandLine(pid);
        return words.Count > 0 ? string.Join(' ', words) : ReadComm(pid);
    }

    public static List<string> ReadCommandLine(int pid) =>
        [.. ReadText(pid, "cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries)];

    /// <summary>The thread ids of the process (/proc/PID/task).</summary>
    public static List<int> ReadTasks(int pid) => ListNumbers(pid, "task");

    /// <summary>Whether thread <paramref name="tid"/> of process <paramref name="pid"/> is still there (a zombie counts).</summary>
    public static bool TaskExists(int pid, int tid) => Directory.Exists(Path(pid, $"task/{tid}"));

    /// <summary>/proc/PID/task/TID/stat: a thread's own state, nice value and scheduling policy.</summary>
    public static ProcStat ReadTaskStat(int pid, int tid) => ProcStat.Parse(ReadText(pid, $"task/{tid}/stat"));

    /// <summary>A thread's name (/proc/PID/task/TID/comm).</summary>
    public static string ReadTaskComm(int pid, int tid) => ReadText(pid, $"task/{tid}/comm").TrimEnd('\n');

    /// <summary>The processes whose parent it is, zombies not yet waited for included (the children of each of its
    /// threads, /proc/PID/task/TID/children). Empty for a process gone meanwhile.</summary>
    public static List<int> ReadChildren(int pid)
    {
        var children = new List<int>();
        List<int> tasks;
        try
        {
            tasks = ReadTasks(pid);
        }
        catch (ProcessAccessException) when (!Directory.Exists($"/proc/{pid}"))
        {
            return children;
        }
        foreach (var task in tasks)
        {
            string text;
            try
            {
                text = File.ReadAllText(Path(pid, $"task/{task}/children"));
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
            {
                continue; // the thread ended while we looked
            }
            foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (int.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out var child)) children.Add(child);
        }
        return children;
    }

    /// <summary>Open descriptors and what they point at (readlink of /proc/PID/fd/N).</summary>
    public static List<(int Fd, string Target)> ReadDescriptors(int pid)
    {
        var result = new List<(int, string)>();
        foreach (var fd in ListNumbers(pid, "fd"))
        {
            string target;
            try
            {
                target = ReadLink(pid, $"fd/{fd}");
            }
            catch (ProcessAccessException) when (Directory.Exists($"/proc/{pid}"))
            {
                continue; // closed while we looked
            }
            result.Add((fd, target));
        }
        return result;
    }

    /// <summary>POSIX timers (timer_create) of the process; empty when it has none.</summary>
    public static string ReadTimers(int pid)
    {
        try
        {
            return ReadText(pid, "timers");
        }
        catch (ProcessAccessException) when (Directory.Exists($"/proc/{pid}"))
        {
            return "";
        }
    }

    public static string ReadLink(int pid, string file)
    {
        var info = new FileInfo(Path(pid, file));
        try
        {
            return info.LinkTarget ?? throw new ProcessAccessException(pid, $"{file} is not a link");
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ProcessAccessException(pid, "no such process");
        }
        catch (UnauthorizedAccessException)
        {
            throw new ProcessAccessException(pid, "permission denied");
        }
        catch (IOException e) when ((Errno)e.HResult is Errno.ENOENT or Errno.ESRCH)
        {
            throw new ProcessAccessException(pid, $"{file} vanished");
        }
    }

    private static List<int> ListNumbers(int pid, string dir)
    {
        try
        {
            return [.. Directory.EnumerateFileSystemEntries(Path(pid, dir))
                .Select(p => int.Parse(System.IO.Path.GetFileName(p), CultureInfo.InvariantCulture)).Order()];
        }
        catch (DirectoryNotFoundException)
        {
            throw new ProcessAccessException(pid, "no such process");
        }
        catch (UnauthorizedAccessException)
        {
            throw new ProcessAccessException(pid, "permission denied");
        }
    }
}
