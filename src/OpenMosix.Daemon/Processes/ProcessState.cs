namespace OpenMosix.Daemon.Processes;

public enum ProcessState
{
    /// <summary>Running at its home node, this one.</summary>
    Home,
    /// <summary>Being moved; frozen until the target confirms or the move is called off.</summary>
    Migrating,
    /// <summary>Running on another node; the original here is its deputy.</summary>
    Remote,
    /// <summary>The node running it died; the deputy ended as if killed by SIGKILL.</summary>
    Lost,
    /// <summary>Running here for another home node.</summary>
    Guest,
}
