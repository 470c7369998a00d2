using Microsoft.Win32.SafeHandles;
using OpenMosix.Checkpoint.Restore;
using static OpenMosix.Checkpoint.Tracing.SyscallNumbers;

namespace OpenMosix.Checkpoint.Tree;

/// <summary>
/// The pipes and files a restored tree shares, each made once by the restorer: a pipe filled with what was buffered
/// in it, a file opened with its flags. All are handed to the root's stub at numbers above any the tree uses (the
/// base), so every stub made from it inherits them; each process then duplicates the ones it held onto its own
/// numbers, with their flags (and a file's offset), and closes the rest with the descriptors it did not have. The
/// restorer's copies are closed once every stub exists, so a reader sees end of file when the tree's writers are done.
/// </summary>
internal sealed class SharedDescriptors : IDisposable
{
    private const int NewPipeCapacity = 1 << 16;
    private readonly TreeImage _tree;
    private readonly List<(SafeFileHandle Read, SafeFileHandle Write)> _pipes = [];
    private readonly List<SafeFileHandle> _files = [];
    private readonly int _base;

    public SharedDescriptors(TreeImage tree, IReadOnlyDictionary<int, ProcessImage> images)
    {
        _tree = tree;
        _base = 3 + images.Values.SelectMany(i => i.Files).Select(f => f.Fd).Append(-1)
            .Concat(AllEnds(tree).Select(e => e.Fd)).Max();
        foreach (var pipe in tree.Pipes)
            if (pipe.Contents.Length > NewPipeCapacity)
                throw new RestoreException($"pipe {pipe.Name} held {pipe.Contents.Length} bytes, more than a new pipe takes");
        foreach (var end in AllEnds(tree)) GiveAsInherited(images[end.Pid], end);
        try
        {
            foreach (var pipe in tree.Pipes)
            {
                var ends = Descriptors.CreatePipe();
                _pipes.Add(ends);
                if (pipe.Contents.Length > 0) Descriptors.WriteAll(ends.Write, pipe.Contents);
            }
            foreach (var file in tree.Files)
            {
                var flags = (Linux.Interop.OpenFlags)file.Flags & ~(Linux.Interop.OpenFlags.Create | Linux.Interop.OpenFlags.Exclusive
                    | Linux.Interop.OpenFlags.Truncate | Linux.Interop.OpenFlags.NoControllingTerminal);
                _files.Add(Descriptors.Open(file.Path, flags));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>What the root's stub is spawned with: the restorer's own 0-2 as given, and every end at the base.</summary>
    public Dictionary<int, int> ForRoot(IReadOnlyDictionary<int, int> stdio)
    {
        var map = new Dictionary<int, int>(stdio);
        for (var i = 0; i < _pipes.Count; i++)
        {
            map[_base + 2 * i] = (int)_pipes[i].Read.DangerousGetHandle();
            map[_base + 2 * i + 1] = (int)_pipes[i].Write.DangerousGetHandle();
        }
        for (var i = 0; i < _files.Count; i++) map[FileSlot(i)] = (int)_files[i].DangerousGetHandle();
        return map;
    }

    /// <summary>The descriptors process <paramref name="pid"/> holds before its files are restored: those it keeps
    /// (its shared pipe ends, the stdio given) and those it closes (the base).</summary>
    public Dictionary<int, int> Inherited(IReadOnlyDictionary<int, int> rootMap, int pid)
    {
        var map = rootMap.Keys.ToDictionary(fd => fd, fd => fd);
        foreach (var end in Ends(pid)) map[end.Fd] = end.Fd;
        return map;
    }

    /// <summary>Duplicates the ends <paramref name="pid"/> held onto its numbers, inside its stub.</summary>
    public void Install(SyscallInjector injector, int pid)
    {
        for (var i = 0; i < _tree.Pipes.Count; i++)
            foreach (var end in _tree.Pipes[i].Ends.Where(e => e.Pid == pid))
            {
                injector.Call($"dup3 of a shared pipe to fd {end.Fd}", Dup3, _base + 2 * i + (end.Write ? 1 : 0), end.Fd,
                    end.CloseOnExec ? (long)Linux.Interop.OpenFlags.CloseOnExec : 0);
                injector.Call($"fcntl(F_SETFL) of fd {end.Fd}", Fcntl, end.Fd, FSetFl, end.Flags & ProcessBuilder.StatusFlags);
            }
        for (var i = 0; i < _tree.Files.Count; i++)
            foreach (var end in _tree.Files[i].Ends.Where(e => e.Pid == pid))
            {
                injector.Call($"dup3 of a shared file to fd {end.Fd}", Dup3, FileSlot(i), end.Fd,
                    end.CloseOnExec ? (long)Linux.Interop.OpenFlags.CloseOnExec : 0);
                // One offset for all of them: set by each before any runs, to the same value.
                injector.Call($"lseek of fd {end.Fd}", Lseek, end.Fd, _tree.Files[i].Offset, 0);
            }
    }

    private int FileSlot(int i) => _base + 2 * _pipes.Count + i;

    private static IEnumerable<TreeDescriptor> AllEnds(TreeImage tree) =>
        tree.Pipes.SelectMany(p => p.Ends).Concat(tree.Files.SelectMany(f => f.Ends));

    private IEnumerable<TreeDescriptor> Ends(int pid) => AllEnds(_tree).Where(e => e.Pid == pid);

    /// <summary>
    /// The image's record of a shared pipe or file becomes a pipe given to it, which the restorer leaves alone when
    /// the descriptor is inherited (not one of its own to make or reopen).
    /// </summary>
    private static void GiveAsInherited(ProcessImage image, TreeDescriptor end)
    {
        var at = image.Files.FindIndex(f => f.Fd == end.Fd);
        if (at < 0 || image.Files[at].Kind is not (FileKind.Pipe or FileKind.InternalPipe or FileKind.RegularFile))
            throw new CorruptImageException($"corrupt tree section: process {end.Pid} has no pipe or file at fd {end.Fd}");
        var f = image.Files[at];
        image.Files[at] = new FileDescriptorRecord { Fd = f.Fd, Kind = FileKind.Pipe, Path = f.Path, Flags = f.Flags, CloseOnExec = f.CloseOnExec };
    }

    public void Dispose()
    {
        foreach (var (read, write) in _pipes)
        {
            read.Dispose();
            write.Dispose();
        }
        _pipes.Clear();
        _files.ForEach(f => f.Dispose());
        _files.Clear();
    }
}
