using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>
/// How many bytes home relayed this stay were written into a copy's stdin, kept in a small memory file that the
/// copy's keeper holds too (<see cref="GuestKeeper"/>): an omd killed without a drain leaves the count to the next,
/// which tells home where the copy's input goes on (<see cref="Protocol.Resumed"/>), so that home sends again what the
/// dead omd had taken and never written. Updated after each write: a kill between the two (a few instructions) would
/// have that one write, at most a page, sent twice.
/// </summary>
internal sealed class InputTally : IDisposable
{
    private InputTally(SafeFileHandle handle) => Handle = handle;

    public SafeFileHandle Handle { get; }

    public static InputTally Create() => new(Descriptors.CreateMemoryFile("om-input-tally", new byte[sizeof(long)]));

    /// <summary>The tally a dead omd kept, as taken from its keeper.</summary>
    public static InputTally Of(SafeFileHandle handle) => new(handle);

    public void Record(long written)
    {
        Span<byte> bytes = stackalloc byte[sizeof(long)];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, written);
        RandomAccess.Write(Handle, bytes, 0);
    }

    /// <summary>The count last recorded (zero when nothing is).</summary>
    public long Read()
    {
        Span<byte> bytes = stackalloc byte[sizeof(long)];
        return RandomAccess.Read(Handle, bytes, 0) == bytes.Length ? Math.Max(0, BinaryPrimitives.ReadInt64LittleEndian(bytes)) : 0;
    }

    public void Dispose() => Handle.Dispose();
}
