using OpenMosix.Balancing.Demand;

namespace OpenMosix.Daemon.Balancing;

/// <summary>The words the admin API uses for decay modes and job hints (RunRequest, getdecay), lower case.</summary>
public static class JobOptions
{
    public static string Name(DecayMode mode) => mode.ToString().ToLowerInvariant();

    /// <summary>"slow", "fast", "none" → the mode; null or "" → null (the node's default); anything else: false.</summary>
    public static bool TryParseDecay(string? text, out DecayMode? mode)
    {
        (mode, var known) = text switch
        {
            null or "" => ((DecayMode?)null, true),
            "slow" => (DecayMode.Slow, true),
            "fast" => (DecayMode.Fast, true),
            "none" => (DecayMode.None, true),
            _ => (null, false),
        };
        return known;
    }

    /// <summary>"cpu", "io" → the hint; null or "" → measured; anything else: false.</summary>
    public static bool TryParseHint(string? text, out JobHint hint)
    {
        (hint, var known) = text switch
        {
            null or "" => (JobHint.Measured, true),
            "cpu" => (JobHint.Cpu, true),
            "io" => (JobHint.Io, true),
            _ => (JobHint.Measured, false),
        };
        return known;
    }
}
