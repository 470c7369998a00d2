namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>
/// What a guest's stay here keeps across the links that relay it: its stdin's writer, the counts its output pumps
/// keep for checkpoints, what they sent lately, and its exit. When home's omd dies without a drain, a new omd at
/// home takes the relay over on a new link (<see cref="GuestResumes"/>) and finds all of it as it was.
/// </summary>
internal sealed class GuestStay : IDisposable
{
    /// <param name="tally">kept for a next omd when the copy's stdin is a pipe; <paramref name="inputFrom"/>: what a
    /// dead omd wrote into it already (an adopted stay).</param>
    public GuestStay(RelayPipes pipes, Task<Checkpoint.Engine.ExitStatus> exit, InputTally? tally = null, long inputFrom = 0)
    {
        ArgumentNullException.ThrowIfNull(pipes);
        Input = new GuestInput(pipes.Input, pipes.InputIsTerminal, tally, inputFrom) { TerminalInputQueued = pipes.TerminalInputQueued };
        // A terminal's output is not counted: what it shows is not replayed exactly once after a restart.
        foreach (var fd in pipes.Outputs.Keys.Where(fd => fd != pipes.TerminalOutput))
        {
            Counted[fd] = new PumpedBytes();
            Sent[fd] = new SentOutput();
        }
        Exit = exit;
        if (pipes.TerminalOutput is not null) TerminalCounted = new PumpedBytes();
    }

    /// <summary>What the terminal's pump took and sent (not for checkpoints): a copy that ended while what it forked
    /// holds the terminal open sends its exit status once what it wrote there went home.</summary>
    public PumpedBytes? TerminalCounted { get; }

    public GuestInput Input { get; }

    public Dictionary<int, PumpedBytes> Counted { get; } = [];

    public Dictionary<int, SentOutput> Sent { get; } = [];

    /// <summary>The copy's end, watched once for the whole stay (the engine reaps it once).</summary>
    public Task<Checkpoint.Engine.ExitStatus> Exit { get; }

    /// <summary>What home has not been sent yet of each output, past what it says it delivered; null when some of
    /// it is no longer kept here.</summary>
    public Dictionary<int, byte[]>? Unsent(IReadOnlyList<Protocol.OutputCount> delivered)
    {
        ArgumentNullException.ThrowIfNull(delivered);
        var unsent = new Dictionary<int, byte[]>();
        foreach (var (fd, sent) in Sent)
        {
            var bytes = sent.After(delivered.FirstOrDefault(d => d.Fd == fd)?.Bytes ?? 0);
            if (bytes is null) return null;
            unsent[fd] = bytes;
        }
        return unsent;
    }

    /// <summary>An adopted stay (the omd that relayed it died): what this omd sends of each output counts from what
    /// home says it delivered, since what the dead omd read and home never got is gone with it.</summary>
    public void CountSentFrom(IReadOnlyList<Protocol.OutputCount> delivered)
    {
        ArgumentNullException.ThrowIfNull(delivered);
        foreach (var fd in Sent.Keys.ToList())
        {
            var from = delivered.FirstOrDefault(d => d.Fd == fd)?.Bytes ?? 0;
            Sent[fd] = new SentOutput(from);
            // Its checkpoints count its output from the same point as home does (a restart drops what home has).
            Counted[fd] = new PumpedBytes(from);
        }
    }

    public void Dispose() => Input.Dispose();
}
