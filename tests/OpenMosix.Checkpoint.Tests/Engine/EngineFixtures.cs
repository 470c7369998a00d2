using Microsoft.Win32.SafeHandles;
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
}
