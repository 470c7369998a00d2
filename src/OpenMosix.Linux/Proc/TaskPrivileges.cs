using System.Globalization;

namespace OpenMosix.Linux.Proc;

/// <summary>
/// What /proc/PID/task/TID/status says of one thread's privileges: its five capability sets (bit N is capability
/// N), no_new_privs, and its seccomp mode (0 none, 1 strict, 2 filter) with the number of filters it runs under.
/// Credentials belong to threads in Linux, so each thread has its own.
/// </summary>
public sealed record TaskPrivileges(ulong Inheritable, ulong Permitted, ulong Effective, ulong Bounding, ulong Ambient,
    bool NoNewPrivs, int SeccompMode, int SeccompFilters)
{
    public const int CapSysAdmin = 21;

    public bool HasEffective(int capability) => (Effective & (1UL << capability)) != 0;

    public static TaskPrivileges Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var fields = ProcStatus.Fields(text);
        string Get(string key) => fields.TryGetValue(key, out var v) ? v : throw new FormatException($"/proc/PID/status has no '{key}' line");
        ulong Mask(string key) => ulong.Parse(Get(key), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        int Int(string key, int fallback) => fields.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        return new TaskPrivileges(Mask("CapInh"), Mask("CapPrm"), Mask("CapEff"), Mask("CapBnd"), Mask("CapAmb"),
            Int("NoNewPrivs", 0) != 0, Int("Seccomp", 0), Int("Seccomp_filters", 0));
    }

    public static TaskPrivileges Read(int pid, int tid) => Parse(ProcFs.ReadText(pid, $"task/{tid}/status"));

    /// <summary>The capabilities this kernel knows: bits 0 to /proc/sys/kernel/cap_last_cap.</summary>
    public static ulong KnownCapabilities()
    {
        var last = int.Parse(File.ReadAllText("/proc/sys/kernel/cap_last_cap").Trim(), CultureInfo.InvariantCulture);
        return last >= 63 ? ulong.MaxValue : (1UL << (last + 1)) - 1;
    }
}
