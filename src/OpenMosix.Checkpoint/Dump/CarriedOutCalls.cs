namespace OpenMosix.Checkpoint.Dump;

/// <summary>A call a frozen thread was interrupted in and would make again: its number and its six arguments.</summary>
public sealed record InterruptedCall(int Tid, long Number, IReadOnlyList<ulong> Arguments);

/// <summary>
/// Knows which interrupted calls of a frozen process were carried out elsewhere already: a forwarded call that home
/// served but whose result could not be delivered before a signal or a stop interrupted it. The image records such a
/// call as returned with that result; made again wherever the process runs next (at home, on the real descriptor),
/// it would be carried out twice.
/// </summary>
public interface ICarriedOutCalls
{
    /// <summary>
    /// The result of each of <paramref name="calls"/> that was carried out, by thread id (a read's bytes are put into
    /// its buffer); the others are made again. What it knows stays known: the process may yet run on where it is and
    /// make the calls again there.
    /// </summary>
    IReadOnlyDictionary<int, long> ResultsOf(IReadOnlyList<InterruptedCall> calls);
}
