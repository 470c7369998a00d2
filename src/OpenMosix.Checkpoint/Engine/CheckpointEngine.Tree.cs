using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Tree;

namespace OpenMosix.Checkpoint.Engine;

public sealed partial class CheckpointEngine
{
    /// <summary>
    /// Writes the image of <paramref name="pid"/> and all its descendants into <paramref name="directory"/>, then
    /// commits it. Refuses with <see cref="CantMoveException"/> before touching any process when one of them cannot
    /// travel; on any later failure every process runs on as if nothing happened and the directory is not made.
    /// <see cref="AfterDump.Kill"/> kills them all once the directory is complete, anything else lets them run on.
    /// </summary>
    public TreeDumpResult CheckpointTree(int pid, TreeImageDirectory directory, DumpOptions options)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(options);
        return Long(() =>
        {
            using var busy = _tracer.Busy(pid);
            return new TreeDumper(_logger, _dumper).Dump(pid, directory, options);
        });
    }
}
