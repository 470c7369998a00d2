namespace OpenMosix.Cli.Tests.Support;

/// <summary>
/// One program to checkpoint mid-run. <see cref="Key"/> names the program, its arguments and input for the reference
/// cache. The hooks run identically in the reference run, so feeding a program input is part of its scenario:
/// <see cref="AfterStart"/> before the checkpoint, <see cref="AfterRestore"/> after it (on om restore's stdin).
/// </summary>
internal sealed record Scenario
{
    public required string Key { get; init; }

    /// <summary>The command, given the run's directory (inputs are prepared there; outputs are collected from there).</summary>
    public required Func<string, ProcessSpec> Command { get; init; }

    /// <summary>When the program is far enough along to be checkpointed (before the random extra delay).</summary>
    public required Func<RunningProcess, bool> Ready { get; init; }

    public required string ReadyDescription { get; init; }

    /// <summary>Upper bound of the random delay added after <see cref="Ready"/>; well inside the program's run time.</summary>
    public TimeSpan MaxExtraDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    public Action<string>? Prepare { get; init; }

    public Func<RunningProcess, Task>? AfterStart { get; init; }

    public Func<RunningProcess, Task>? AfterRestore { get; init; }

    /// <summary>Files the program writes, relative to the run directory, compared byte for byte with the reference.</summary>
    public Func<string, IReadOnlyDictionary<string, byte[]>>? CollectFiles { get; init; }

    /// <summary>The program, om checkpoint and om restore all run as <see cref="OpenMosix.TestSupport.TestUser"/>, in a
    /// directory of theirs (the reference run stays root's: the output is the same).</summary>
    public bool AsTestUser { get; init; }

    /// <summary>Checks what om restore said on stderr.</summary>
    public Action<string>? CheckRestoreStderr { get; init; }

    /// <summary>Every target finishes in seconds of CPU; a run is waited for while it uses or waits for a CPU, and this
    /// long without (a copy that hangs must not hold the suite for long; <see cref="RunningProcess.WaitForExitWhileItRunsAsync"/>).</summary>
    public TimeSpan RunTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public static Func<RunningProcess, bool> PrintedBytes(long bytes) => process => process.StdoutLength >= bytes;

    public static Func<RunningProcess, bool> PrintedLines(int lines) => process => process.StdoutLines >= lines;

    public static Func<RunningProcess, bool> ReadBytes(long bytes) => process => ProcFs.BytesRead(process.Pid) >= bytes;

    public static Func<RunningProcess, bool> UsedCpu(TimeSpan cpu) => process => ProcFs.CpuTicks(process.Pid) * 10 >= cpu.TotalMilliseconds;
}
