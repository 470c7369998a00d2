using OpenMosix.Linux;

namespace OpenMosix.TestSupport;

/// <summary>
/// Holds given process/thread ids with sleeping processes, so that a restore cannot have them back and must give
/// its threads new ids, as happens on a busy machine where the ids were recycled (by <see cref="PidRecycling"/>; an id
/// another process wins meanwhile is taken all the same).
/// </summary>
public sealed class IdSquatter : IDisposable
{
    private readonly List<ChildProcess> _holders = [];

    public IdSquatter(IEnumerable<int> ids)
    {
        try
        {
            foreach (var id in ids)
                if (Take(id) is { } holder) _holders.Add(holder);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>A sleeping process with pid <paramref name="id"/>, or null where another process already holds it.</summary>
    private static ChildProcess? Take(int id)
    {
        try
        {
            return Signals.Exists(id) ? null : PidRecycling.StartAs(id, "/bin/sleep", ["600"]);
        }
        catch (InvalidOperationException) when (Signals.Exists(id))
        {
            return null; // another process won it: taken all the same
        }
    }

    public void Dispose()
    {
        foreach (var holder in _holders) holder.Dispose();
        _holders.Clear();
    }
}
