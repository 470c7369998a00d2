using System.Globalization;

namespace OpenMosix.TestSupport;

/// <summary>
/// Holds given process/thread ids with sleeping processes, so that a restore cannot have them back and must give
/// its threads new ids, as happens on a busy machine where the ids were recycled. Each id is taken by setting
/// ns_last_pid just below it and spawning; on a busy machine another process may win the id, so it retries a few
/// times and then says which id it could not take.
/// </summary>
public sealed class IdSquatter : IDisposable
{
    private const string LastPid = "/proc/sys/kernel/ns_last_pid";
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
        for (var attempt = 0; attempt < 20; attempt++)
        {
            File.WriteAllText(LastPid, (id - 1).ToString(CultureInfo.InvariantCulture));
            var holder = ChildProcess.Start("/bin/sleep", ["600"]);
            if (holder.Pid == id) return holder;
            holder.Dispose();
            if (Directory.Exists($"/proc/{id}")) return null;
        }
        throw new InvalidOperationException($"could not take id {id} in 20 attempts: the machine is too busy");
    }

    public void Dispose()
    {
        foreach (var holder in _holders) holder.Dispose();
        _holders.Clear();
    }
}
