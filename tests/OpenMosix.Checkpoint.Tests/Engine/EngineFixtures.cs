using Microsoft.Win32.SafeHandles;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Checkpoint.Tests.Engine;

internal static class EngineFixtures
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Waits until the process sits blocked in system call <paramref name="numbers"/> (from /proc/PID/syscall).</summary>
    public static void UntilBlockedIn(int pid, params int[] numbers) =>
        Poll.Until(() =>
        {
            var text = File.ReadAllText($"/proc/{pid}/syscall");
            var first = text.Split(' ')[0];
            return int.TryParse(first, out var nr) && numbers.Contains(nr);
        }, Patience, $"process {pid} to block in syscall {string.Join('/', numbers)}");

    public static void WriteAll(SafeFileHandle pipe, string text)
    {
        Descriptors.WriteAll(pipe, System.Text.Encoding.UTF8.GetBytes(text));
    }

    public static (SafeFileHandle Read, SafeFileHandle Write) Pipe() => Descriptors.CreatePipe();

    /// <summary>
    /// Waits for a restored process to end while it keeps using CPU time, at most <paramref name="idle"/> without
    /// (<see cref="CpuProgressBound"/>: a restored program that computes takes what the loaded machine gives it). One
    /// that hangs is killed and the test fails, instead of the whole suite waiting forever on it.
    /// </summary>
    public static ExitStatus WaitForExitWithin(this CheckpointEngine engine, RestoredProcess restored, TimeSpan idle)
    {
        var bound = new CpuProgressBound(restored.Pid, idle);
        while (!HasEnded(restored.Pid))
        {
            if (!bound.Holds())
            {
                Signals.Kill(restored.Pid, Signals.SIGKILL);
                engine.WaitForExit(restored);
                throw new TimeoutException($"restored process {restored.Pid} did not end {bound} (killed)");
            }
            Thread.Sleep(10);
        }
        return engine.WaitForExit(restored);
    }

    /// <summary>Exited and waiting to be reaped (a zombie), or already gone.</summary>
    private static bool HasEnded(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (IOException)
        {
            return true;
        }
    }
}
