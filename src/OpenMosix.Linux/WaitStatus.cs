namespace OpenMosix.Linux;

/// <summary>A waitpid status word, decoded the way the W* macros do.</summary>
public readonly record struct WaitStatus(int Raw)
{
    public bool Exited => (Raw & 0x7f) == 0;
    public int ExitCode => (Raw >> 8) & 0xff;
    public bool Signaled => ((Raw & 0x7f) + 1) >> 1 > 0 && !Stopped && !Exited && !Continued;
    public int TermSignal => Raw & 0x7f;
    public bool Stopped => (Raw & 0xff) == 0x7f;
    public int StopSignal => (Raw >> 8) & 0xff;
    /// <summary>The PTRACE_EVENT_* of a ptrace event stop (status >> 16).</summary>
    public int PtraceEvent => (Raw >> 16) & 0xff;
    /// <summary>Resumed by SIGCONT (reported only to a wait with WCONTINUED): WIFCONTINUED.</summary>
    public bool Continued => Raw == 0xffff;

    public override string ToString() => Continued ? "continued" : Exited ? $"exited {ExitCode}"
        : Stopped ? $"stopped by signal {StopSignal & 0x7f}{((StopSignal & 0x80) != 0 ? " (syscall)" : "")} event {PtraceEvent}"
        : $"killed by signal {TermSignal}";
}
