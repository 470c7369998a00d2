using Microsoft.Win32.SafeHandles;
using OpenMosix.Linux;
using OpenMosix.Linux.Interop;

namespace OpenMosix.Lab;

/// <summary>
/// One lock for every lab on the machine, held by `up` and `down`: two `up`s must not pick the same subnet, and a `down`
/// must not race an `up` of the same name.
/// </summary>
public sealed class LabLock : IDisposable
{
    private const OpenFlags ReadWriteCreate = OpenFlags.ReadWrite | OpenFlags.Create;
    private readonly SafeFileHandle _file;

    private LabLock(SafeFileHandle file) => _file = file;

    public static LabLock Acquire()
    {
        Directory.CreateDirectory(LabLayout.LabsRoot);
        var file = Descriptors.Open(Path.Combine(LabLayout.LabsRoot, ".lock"), ReadWriteCreate, Convert.ToInt32("600", 8));
        Descriptors.LockExclusive(file);
        return new LabLock(file);
    }

    // Closing the descriptor releases the flock.
    public void Dispose() => _file.Dispose();
}
