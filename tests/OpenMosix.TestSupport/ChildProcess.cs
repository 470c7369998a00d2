using System.Diagnostics;
using Microsoft.Win32.SafeHandles;
using OpenMosix.Linux;
using OpenMosix.Linux.Interop;

namespace OpenMosix.TestSupport;

/// <summary>How a child ended: exit code, or the signal that killed it.</summary>
public readonly record struct ChildExit(int Code, int Signal)
{
    public override string ToString() => Signal != 0 ? $"killed by signal {Signal}" : $"exited {Code}";
}

/// <summary>
/// A child started with posix_spawn (never Process.Start, whose SIGCHLD handling must not meet a tracee). Its
/// stdio goes to files or pipes chosen by the test. Disposing kills it if it still runs.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private ChildExit? _exit;
    // Taken while the child cannot have been reaped yet: after a tracer reaped it (an engine killing what it froze),
    // its PID may already name another process, which Kill and HasExited must never touch.
    private readonly PidFd _handle;

    private ChildProcess(int pid)
    {
        Pid = pid;
        _handle = PidFd.Open(pid);
    }

    public int Pid { get; }

    /// <summary>Starts <paramref name="path"/> with stdin from /dev/null (or <paramref name="stdin"/>), stdout and
    /// stderr to the given handles (or /dev/null), and no other descriptor but those of <paramref name="inherited"/>
    /// (child descriptor number → handle).</summary>
    public static ChildProcess Start(string path, IReadOnlyList<string> arguments, SafeFileHandle? stdin = null,
        SafeFileHandle? stdout = null, SafeFileHandle? stderr = null, string? workingDirectory = null,
        IReadOnlyDictionary<int, SafeFileHandle>? inherited = null)
    {
        using var devNull = Descriptors.Open("/dev/null", OpenFlags.ReadWrite);
        var map = new Dictionary<int, int>
        {
            [0] = (int)(stdin ?? devNull).DangerousGetHandle(),
            [1] = (int)(stdout ?? devNull).DangerousGetHandle(),
            [2] = (int)(stderr ?? devNull).DangerousGetHandle(),
        };
        foreach (var (number, handle) in inherited ?? new Dictionary<int, SafeFileHandle>()) map[number] = (int)handle.DangerousGetHandle();
        var pid = ProcessSpawner.Spawn(new SpawnRequest(path, [path, .. arguments])
        {
            Descriptors = map,
            WorkingDirectory = workingDirectory,
            NewProcessGroup = true,
        });
        return new ChildProcess(pid);
    }

    /// <summary>Starts with stdout (and stderr) appended to <paramref name="outputFile"/>.</summary>
    public static ChildProcess StartToFile(string path, IReadOnlyList<string> arguments, string outputFile, SafeFileHandle? stdin = null,
        IReadOnlyDictionary<int, SafeFileHandle>? inherited = null)
    {
        using var output = File.OpenHandle(outputFile, FileMode.Create, FileAccess.Write, FileShare.ReadWrite);
        return Start(path, arguments, stdin, output, output, inherited: inherited);
    }

    /// <summary>Waits for the exit (bounded) and reaps the child.</summary>
    public ChildExit WaitForExit(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        return WaitForExit(() => deadline.Elapsed <= timeout, () => $"within {timeout.TotalSeconds:F0} s");
    }

    /// <summary>Waits for the exit of a child that computes, for as long as it keeps running (using CPU time or waiting
    /// for a CPU; at most <paramref name="idle"/> without, <see cref="CpuProgressBound"/>), and reaps it: its running
    /// time on a loaded machine is the machine's, not the test's to guess.</summary>
    public ChildExit WaitForExitWhileItRuns(TimeSpan idle) => WaitForExitWhileItRuns(idle, idle * 10);

    /// <summary>As <see cref="WaitForExitWhileItRuns(TimeSpan)"/>, at most <paramref name="cap"/> in all: for a child
    /// whose running time is set by its own clock rather than by the work it does, so that one spinning where it should
    /// sleep is not waited for ten idle bounds long.</summary>
    public ChildExit WaitForExitWhileItRuns(TimeSpan idle, TimeSpan cap)
    {
        var bound = new CpuProgressBound(Pid, idle, cap);
        return WaitForExit(bound.Holds, bound.ToString);
    }

    private ChildExit WaitForExit(Func<bool> holds, Func<string> bound)
    {
        if (_exit is { } done) return done;
        while (true)
        {
            var status = Waiting.TryReap(_handle);
            if (status.Raw != -1)
            {
                _exit = status.Exited ? new ChildExit(status.ExitCode, 0) : new ChildExit(0, status.TermSignal);
                return _exit.Value;
            }
            if (!holds()) throw new TimeoutException($"process {Pid} did not exit {bound()}");
            Thread.Sleep(5);
        }
    }

    public bool HasExited
    {
        get
        {
            return _exit is not null || _handle.HasEnded;
        }
    }

    public void Kill()
    {
        if (_exit is null) _handle.TrySendSignal(Signals.SIGKILL);
    }

    public void Dispose()
    {
        try
        {
            if (_exit is not null) return;
            Kill();
            WaitForExit(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is SyscallException or TimeoutException or ProcessAccessException)
        {
            // already reaped elsewhere
        }
        finally
        {
            _handle.Dispose();
        }
    }

    /// <summary>Whether this very process is still there (running or a zombie), never a later one with its PID.</summary>
    public bool Exists => _handle.Exists;
}
