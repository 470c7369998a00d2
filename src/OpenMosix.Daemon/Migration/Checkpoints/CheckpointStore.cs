namespace OpenMosix.Daemon.Migration.Checkpoints;

/// <summary>
/// Where home keeps the checkpoints of its processes running away (checkpoint.dir, 0700; files 0600): per process the
/// last consistent one (PID.ckpt), the latest merged one while home still waits for the output it counted (PID.next),
/// and the images of one arriving (PID.in-round, PID.in-final). Each is written whole under another name and renamed,
/// so a checkpoint cut in the middle (a link or a disk that fails) never replaces a good one.
/// </summary>
public sealed class CheckpointStore(string directory)
{
    public string Directory { get; } = directory;

    /// <summary>Creates the directory if needed and makes it root's alone: checkpoints hold other users' memory.</summary>
    public void Prepare()
    {
        const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        System.IO.Directory.CreateDirectory(Directory, Private);
        File.SetUnixFileMode(Directory, Private);
    }

    public string Committed(int pid) => Path.Combine(Directory, $"{pid}.ckpt");
    private string Merged(int pid) => Path.Combine(Directory, $"{pid}.next");
    private string Incoming(int pid, string part) => Path.Combine(Directory, $"{pid}.in-{part}");

    /// <summary>A file (0600) to receive one image of an arriving checkpoint into: "round" or "final".</summary>
    public FileStream CreateIncoming(int pid, string part) => new(Incoming(pid, part), new FileStreamOptions
    {
        Mode = FileMode.Create,
        Access = FileAccess.ReadWrite,
        UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        BufferSize = 1 << 16,
    });

    /// <summary>
    /// The arriving checkpoint merged into one image: over its own round when whole, else over the latest merged one
    /// (or the committed one). Written as PID.next; <see cref="Commit"/> makes it the one a restart uses.
    /// </summary>
    public void Merge(CheckpointRecord record, bool whole)
    {
        ArgumentNullException.ThrowIfNull(record);
        var pid = record.Pid;
        var final = Incoming(pid, "final");
        try
        {
            var basis = whole ? null : File.Exists(Merged(pid)) ? Merged(pid) : File.Exists(Committed(pid)) ? Committed(pid) : null;
            if (!whole && basis is null) throw new CorruptCheckpointException("there is no earlier checkpoint to add it to");
            using var round = whole ? OpenWhole(Incoming(pid, "round")) : OpenRound(basis!);
            CheckpointFile.WriteAtomically(Merged(pid), record, output =>
            {
                using var finalImage = OpenWhole(final);
                CheckpointMerge.Merge(round, finalImage, output);
            }, output =>
            {
                using var finalImage = OpenWhole(final);
                finalImage.CopyTo(output);
            });
        }
        finally
        {
            File.Delete(Incoming(pid, "round"));
            File.Delete(final);
        }
    }

    /// <summary>The latest merged checkpoint becomes the one a restart uses.</summary>
    public void Commit(int pid)
    {
        if (File.Exists(Merged(pid))) File.Move(Merged(pid), Committed(pid), overwrite: true);
    }

    /// <summary>The committed checkpoint of <paramref name="pid"/>, or null when there is none.</summary>
    public StoredCheckpoint? Open(int pid)
    {
        var path = Committed(pid);
        if (!File.Exists(path)) return null;
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read);
        var (record, roundLength, finalLength) = CheckpointFile.ReadTrailer(file);
        if (record.Pid != pid) throw new CorruptCheckpointException($"{path} holds a checkpoint of process {record.Pid}");
        return new StoredCheckpoint(record, new FileSlice(path, 0, roundLength), new FileSlice(path, roundLength, finalLength));
    }

    /// <summary>Everything kept for <paramref name="pid"/> goes: it ended, came home, or was restarted.</summary>
    public void Forget(int pid)
    {
        foreach (var path in new[] { Committed(pid), Merged(pid), Merged(pid) + ".tmp", Incoming(pid, "round"), Incoming(pid, "final") })
            File.Delete(path);
    }

    private static FileStream OpenWhole(string path) => new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);

    private static Stream OpenRound(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read);
        var (_, roundLength, _) = CheckpointFile.ReadTrailer(file);
        return new FileSlice(path, 0, roundLength);
    }
}

/// <summary>A stored checkpoint opened for a restart: its counts, then its round and its final image, in that order.</summary>
public sealed class StoredCheckpoint(CheckpointRecord record, Stream round, Stream final) : IDisposable
{
    public CheckpointRecord Record { get; } = record;
    public Stream Round { get; } = round;
    public Stream Final { get; } = final;

    public void Dispose()
    {
        Round.Dispose();
        Final.Dispose();
    }
}
