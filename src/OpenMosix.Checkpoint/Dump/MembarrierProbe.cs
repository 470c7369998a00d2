using static OpenMosix.Checkpoint.Tracing.SyscallNumbers;

namespace OpenMosix.Checkpoint.Dump;

/// <summary>
/// membarrier(2) registrations belong to the address space and the kernel shows them nowhere: a process that
/// registered for private expedited barriers (the .NET runtime does, to flush other threads' write buffers) and
/// finds itself unregistered after a restore gets EPERM and aborts. Each kind is probed by issuing that barrier
/// inside the frozen process: it succeeds only when registered (with every thread stopped, it costs nothing).
/// </summary>
internal static class MembarrierProbe
{
    private const long PrivateExpedited = 8, RegisterPrivateExpedited = 16, PrivateExpeditedSyncCore = 32,
        RegisterPrivateExpeditedSyncCore = 64, PrivateExpeditedRseq = 128, RegisterPrivateExpeditedRseq = 256;

    private static readonly (long Barrier, long Register)[] Kinds =
    [
        (PrivateExpedited, RegisterPrivateExpedited),
        (PrivateExpeditedSyncCore, RegisterPrivateExpeditedSyncCore),
        (PrivateExpeditedRseq, RegisterPrivateExpeditedRseq),
    ];

    /// <summary>The MEMBARRIER_CMD_REGISTER_* commands the process has issued, as one bit mask.</summary>
    public static int Registrations(SyscallInjector injector)
    {
        var registered = 0;
        foreach (var (barrier, register) in Kinds)
            if (injector.Raw(Membarrier, barrier, 0, 0) == 0) registered |= (int)register;
        return registered;
    }

    /// <summary>Registers the rebuilt process for every kind in <paramref name="registrations"/>.</summary>
    public static void Register(SyscallInjector injector, int registrations)
    {
        foreach (var (_, register) in Kinds)
            if ((registrations & register) != 0) injector.Call($"membarrier(register {register})", Membarrier, register, 0, 0);
    }
}
