using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace OpenMosix.Daemon.Migration.Home;

/// <summary>
/// How many bytes of each relayed output home delivered this stay, kept in a file as they are delivered (one 8-byte
/// count per descriptor, written in place right after each write to the output): an omd killed at any moment leaves
/// them for the next, which asks the copy's node to send again only what follows them. A kill between a write and
/// its count (a few instructions) would have that write delivered twice.
/// </summary>
public sealed class DeliveredCounts : IDisposable
{
    /// <summary>Relayed outputs are stdio; descriptors from here on are not counted.</summary>
    public const int MaxFd = 1024;

    private readonly SafeFileHandle _file;
    private readonly long[] _counts = new long[MaxFd];
    private readonly byte[] _one = new byte[8];

    private DeliveredCounts(SafeFileHandle file) => _file = file;

    public static string PathOf(string directory, int pid) => Path.Join(directory, $"{pid}.delivered");

    /// <summary>Opens (<paramref name="fresh"/>: empties) the counts of <paramref name="pid"/> under
    /// <paramref name="directory"/> (0700, the file 0600).</summary>
    public static DeliveredCounts Open(string directory, int pid, bool fresh)
    {
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var file = File.OpenHandle(PathOf(directory, pid), fresh ? FileMode.Create : FileMode.OpenOrCreate, FileAccess.ReadWrite,
            FileShare.ReadWrite, FileOptions.None, 0);
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var counts = new DeliveredCounts(file);
        var bytes = new byte[MaxFd * 8];
        var read = RandomAccess.Read(file, bytes, 0);
        for (var fd = 0; fd < read / 8; fd++) counts._counts[fd] = Math.Max(0, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(fd * 8)));
        return counts;
    }

    public long Of(int fd) => fd is >= 0 and < MaxFd ? Volatile.Read(ref _counts[fd]) : 0;

    /// <summary>Counts <paramref name="bytes"/> more delivered on <paramref name="fd"/> (one writer per process: its relay).</summary>
    public void Add(int fd, long bytes)
    {
        if (fd is < 0 or >= MaxFd || _file.IsClosed) return;
        var total = Interlocked.Add(ref _counts[fd], bytes);
        BinaryPrimitives.WriteInt64LittleEndian(_one, total);
        try
        {
            RandomAccess.Write(_file, _one, fd * 8L);
        }
        catch (IOException)
        {
            // A full or failing disk: the count in memory goes on; a takeover would send some output again.
        }
    }

    public IReadOnlyList<Protocol.OutputCount> Of(IEnumerable<int> fds) => [.. fds.Select(fd => new Protocol.OutputCount(fd, Of(fd)))];

    public void Dispose() => _file.Dispose();
}
