namespace OpenMosix.Checkpoint.Image;

/// <summary>
/// The tree section of a process tree's image directory: which processes it holds and how they hang together. Each
/// running process has its own image beside it (<c>PID.img</c>); an exited child not yet waited for has none.
/// </summary>
public sealed record TreeImage
{
    /// <summary>The process the checkpoint was asked for; the first of <see cref="Processes"/>.</summary>
    public required int RootPid { get; init; }
    /// <summary>Every process of the tree, each after its parent.</summary>
    public List<TreeProcess> Processes { get; init; } = [];
    /// <summary>Pipes held by more than one process of the tree, both ends inside it: recreated once on restore.</summary>
    public List<TreePipe> Pipes { get; init; } = [];
    /// <summary>Regular files opened once and held by more than one process of the tree (a script's <c>&gt; log</c>
    /// inherited by its jobs): reopened once on restore, so that they share one offset again.</summary>
    public List<TreeSharedFile> Files { get; init; } = [];
}

/// <summary>One process of a tree: its ids as the kernel knew them at the checkpoint.</summary>
public sealed record TreeProcess
{
    public required int Pid { get; init; }
    /// <summary>Its parent (0 for the root: its parent stays outside the tree).</summary>
    public int ParentPid { get; init; }
    public int ProcessGroup { get; init; }
    public int Session { get; init; }
    /// <summary>The signal its parent gets when it ends (SIGCHLD for a fork; 0 for none).</summary>
    public int ExitSignal { get; init; }
    /// <summary>An exited child its parent has not waited for yet: its wait status (exit code &lt;&lt; 8, or the
    /// signal). Null for a running process, which has an image.</summary>
    public int? ExitStatus { get; init; }
}

/// <summary>A pipe shared inside the tree: the bytes buffered in it, and every descriptor on it.</summary>
public sealed record TreePipe
{
    /// <summary>Its name where it was taken (<c>pipe:[inode]</c>), informative.</summary>
    public required string Name { get; init; }
    public byte[] Contents { get; init; } = [];
    public List<TreeDescriptor> Ends { get; init; } = [];
}

/// <summary>A regular file's open file description shared inside the tree: its path, flags and offset.</summary>
public sealed record TreeSharedFile
{
    public required string Path { get; init; }
    /// <summary>Its open flags (fdinfo): access mode and status flags (O_APPEND among them).</summary>
    public int Flags { get; init; }
    public long Offset { get; init; }
    public List<TreeDescriptor> Ends { get; init; } = [];
}

/// <summary>One descriptor on a shared pipe or file: which process holds it at which number, and its flags.</summary>
public sealed record TreeDescriptor
{
    public required int Pid { get; init; }
    public required int Fd { get; init; }
    public bool Write { get; init; }
    /// <summary>Its open-file status flags (fdinfo), O_NONBLOCK among them.</summary>
    public int Flags { get; init; }
    public bool CloseOnExec { get; init; }
}
