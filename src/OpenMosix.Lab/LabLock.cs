using Microsoft.Win32.SafeHandles;
using OpenMosix.Linux;
using OpenMosix.Linux.Interop;

namespace OpenMosix.Lab;

/// <summary>
/// One lock for every lab on the machine, held by `up` and `down`: two `up`s must not pick the same subnet, and a `down`
/// must not race an `up` of the same name. Faults take a lock of their lab alone (<see cref="AcquireFor"/>): a cut or a
/// heal waiting for another lab's `up` would last seconds longer than asked (seen in a CI rehearsal: a 5 s partition
/// healed 8.6 s after the cut, past TCP's next retransmission, so the link timed out).
/// </summary>
public sealed class LabLock : IDisposable
{
    private const OpenFlags ReadWriteCreate = OpenFlags.ReadWrite | OpenFlags.Create;
    private readonly SafeFileHandle _file;

    private LabLock(SafeFileHandle file) => _file = file;

    public static LabLock Acquire()
    {
        Directory.CreateDirectory(LabLayout.LabsRoot);
        return At(Path.Combine(LabLayout.LabsRoot, ".lock"));
    }

    /// <summary>The lock of one lab, for what changes only that lab's nodes and state file.</summary>
    public static LabLock AcquireFor(LabLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        if (!Directory.Exists(layout.Root)) throw new LabException($"no lab named {layout.Name} (no {layout.StateFile}); `om lab up` creates one");
        return At(Path.Combine(layout.Root, ".lock"));
    }

    private static LabLock At(string path)
    {
        var file = Descriptors.Open(path, ReadWriteCreate, Convert.ToInt32("600", 8));
        Descriptors.LockExclusive(file);
        return new LabLock(file);
    }

    // Closing the descriptor releases the flock.
    public void Dispose() => _file.Dispose();
}
