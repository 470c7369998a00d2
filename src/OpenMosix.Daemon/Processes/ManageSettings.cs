namespace OpenMosix.Daemon.Processes;

/// <summary>The [manage] policy in effect: omd.toml's at start, replaced whole by `mosctl manage` (until omd restarts).</summary>
public sealed class ManageSettings(ManagePolicy initial)
{
    private ManagePolicy _current = initial;

    public ManagePolicy Current
    {
        get => Volatile.Read(ref _current);
        set => Volatile.Write(ref _current, value ?? throw new ArgumentNullException(nameof(value)));
    }
}
