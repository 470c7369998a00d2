namespace OpenMosix.Linux;

/// <summary>
/// personality(2) is per task: setting it on one thread affects only that thread and the processes it spawns,
/// which is how the engine spawns a stub without address randomisation while the rest of the runtime is untouched.
/// </summary>
public static class ThreadPersonality
{
    public const uint AddrNoRandomize = Sys.ADDR_NO_RANDOMIZE;

    public static uint Get()
    {
        var r = Sys.Personality(Sys.PersonalityQuery);
        if (r < 0) throw SyscallException.FromLastError("personality");
        return (uint)r;
    }

    /// <summary>Sets the calling thread's personality; returns the previous value.</summary>
    public static uint Set(uint persona)
    {
        var r = Sys.Personality(persona);
        if (r < 0) throw SyscallException.FromLastError("personality");
        return (uint)r;
    }
}
