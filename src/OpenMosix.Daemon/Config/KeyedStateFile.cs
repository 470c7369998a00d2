using System.Text.Json.Serialization.Metadata;

namespace OpenMosix.Daemon.Config;

/// <summary>
/// A state file that keeps a set of entries by a key (a PID) for an omd that dies without a drain to leave to the
/// next one: every change of the set writes the whole set again (<see cref="StateFile"/>: renamed into place, 0600), so
/// the file always holds the last set, whatever moment omd dies in. The next omd loads it and removes each entry as it
/// deals with it. A file that cannot be read or written costs one warning (<paramref name="warnings"/>).
/// </summary>
public abstract class KeyedStateFile<TEntry, TFile>(string path, JsonTypeInfo<TFile> type, int version, StateFileWarnings warnings, ILogger logger)
    where TEntry : class
    where TFile : class, IVersionedState
{
    private readonly Lock _gate = new();
    private readonly Dictionary<int, TEntry> _entries = [];

    public string Path { get; } = path;

    protected abstract int KeyOf(TEntry entry);

    /// <summary>The usable entries of a file read back; a <see cref="System.Text.Json.JsonException"/> in one line when
    /// one makes the whole file untrustworthy.</summary>
    protected abstract IReadOnlyList<TEntry> EntriesOf(TFile file);

    /// <summary>The file that holds <paramref name="entries"/> (in key order).</summary>
    protected abstract TFile FileOf(IReadOnlyList<TEntry> entries);

    /// <summary>Warns that the set, or what goes with it, could not be written: a next omd would not find it.</summary>
    protected void Unsaved(string reason) => warnings.Unsaved(logger, Path, reason);

    /// <summary>Done after <paramref name="key"/>'s entry left the set (outside its lock).</summary>
    protected virtual void Removed(int key)
    {
    }

    /// <summary>The entries the last omd left, as the file says; empty when it says nothing usable. They stay in the
    /// set until each is removed.</summary>
    public IReadOnlyList<TEntry> Load()
    {
        try
        {
            if (StateFile.Read(Path, type, version) is not { } file) return [];
            var entries = EntriesOf(file);
            lock (_gate)
                foreach (var entry in entries)
                    _entries[KeyOf(entry)] = entry;
            return entries;
        }
        catch (Exception e) when (StateFile.Unreadable(e))
        {
            warnings.Unreadable(logger, Path, StateFile.Reason(e));
            return [];
        }
    }

    /// <summary>The entry of <paramref name="key"/>, or null.</summary>
    public TEntry? Find(int key)
    {
        lock (_gate) return _entries.GetValueOrDefault(key);
    }

    public void Add(TEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        lock (_gate)
        {
            _entries[KeyOf(entry)] = entry;
            Write();
        }
    }

    public void Remove(int key)
    {
        lock (_gate)
        {
            if (!_entries.Remove(key)) return;
            Write();
        }
        Removed(key);
    }

    private void Write()
    {
        var file = FileOf([.. _entries.OrderBy(e => e.Key).Select(e => e.Value)]);
        try
        {
            StateFile.Write(Path, file, type);
        }
        catch (Exception e) when (StateFile.Unwritable(e))
        {
            Unsaved(StateFile.Reason(e));
        }
    }
}
