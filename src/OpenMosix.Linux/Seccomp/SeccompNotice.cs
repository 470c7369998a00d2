namespace OpenMosix.Linux.Seccomp;

/// <summary>One call a process made that its filter handed to the supervisor (struct seccomp_notif).</summary>
public readonly record struct SeccompNotice(ulong Id, int Pid, int Nr, ulong[] Args);
