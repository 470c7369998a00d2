namespace OpenMosix.Linux;

/// <summary>What to start with posix_spawn.</summary>
public sealed record SpawnRequest(string Path, IReadOnlyList<string> Arguments)
{
    /// <summary>"NAME=value" entries; null inherits this process's environment.</summary>
    public IReadOnlyList<string>? Environment { get; init; }
    /// <summary>Child descriptor number → descriptor of this process it gets (dup2). Every other descriptor is closed.</summary>
    public IReadOnlyDictionary<int, int> Descriptors { get; init; } = new Dictionary<int, int>();
    public string? WorkingDirectory { get; init; }
    /// <summary>Put the child in a process group of its own (so that terminal signals to ours do not reach it).</summary>
    public bool NewProcessGroup { get; init; }
    /// <summary>Start the child as the leader of a new session (setsid), detached from our controlling terminal.</summary>
    public bool NewSession { get; init; }
}

/// <summary>
/// posix_spawn (vfork+exec inside glibc): the only safe way to start a child from .NET. The child gets default
/// signal dispositions and an empty signal mask, whatever the runtime's threads had (it ignores SIGPIPE).
/// </summary>
public static class ProcessSpawner
{
    private const int ActionsSize = 256, AttributesSize = 512, SigSetSize = 128;

    public static unsafe int Spawn(SpawnRequest request)
    {
        var actions = NativeMemory.AllocZeroed(ActionsSize);
        var attributes = NativeMemory.AllocZeroed(AttributesSize);
        var strings = new List<nint>();
        try
        {
            Check(Sys.PosixSpawnFileActionsInit(actions), "posix_spawn_file_actions_init");
            Check(Sys.PosixSpawnAttrInit(attributes), "posix_spawnattr_init");
            try
            {
                AddDescriptorActions(actions, request.Descriptors);
                if (request.WorkingDirectory is { } cwd)
                    Check(Sys.PosixSpawnFileActionsAddChdir(actions, cwd), "posix_spawn_file_actions_addchdir_np");

                var empty = stackalloc byte[SigSetSize];
                new Span<byte>(empty, SigSetSize).Clear();
                var defaults = stackalloc byte[SigSetSize];
                new Span<byte>(defaults, SigSetSize).Clear();
                for (var sig = 1; sig <= 64; sig++)
                    if (sig != Signals.SIGKILL && sig != Signals.SIGSTOP) defaults[(sig - 1) / 8] |= (byte)(1 << ((sig - 1) % 8));
                Check(Sys.PosixSpawnAttrSetSigMask(attributes, empty), "posix_spawnattr_setsigmask");
                Check(Sys.PosixSpawnAttrSetSigDefault(attributes, defaults), "posix_spawnattr_setsigdefault");
                var flags = (short)(Sys.POSIX_SPAWN_SETSIGMASK | Sys.POSIX_SPAWN_SETSIGDEF);
                if (request.NewProcessGroup)
                {
                    flags |= Sys.POSIX_SPAWN_SETPGROUP;
                    Check(Sys.PosixSpawnAttrSetPgroup(attributes, 0), "posix_spawnattr_setpgroup");
                }
                if (request.NewSession) flags |= Sys.POSIX_SPAWN_SETSID;
                Check(Sys.PosixSpawnAttrSetFlags(attributes, flags), "posix_spawnattr_setflags");

                var path = NativeStrings.Utf8(request.Path, strings);
                var argv = NativeStrings.NullTerminated(request.Arguments, strings);
                var environment = request.Environment ?? NativeStrings.CurrentEnvironment();
                var envp = NativeStrings.NullTerminated(environment, strings);
                var error = Sys.PosixSpawn(out var pid, (byte*)path, actions, attributes, (byte**)argv, (byte**)envp);
                if (error != 0) throw new SyscallException("posix_spawn", error, request.Path);
                return pid;
            }
            finally
            {
                Sys.PosixSpawnFileActionsDestroy(actions);
                Sys.PosixSpawnAttrDestroy(attributes);
            }
        }
        finally
        {
            NativeStrings.Free(strings);
            NativeMemory.Free(actions);
            NativeMemory.Free(attributes);
        }
    }

    // Sources are first parked above every number involved, so a target never overwrites a source still needed
    // (e.g. 3→1 and 1→3); dup2 from the parked copy also clears close-on-exec. closefrom drops everything else.
    private static unsafe void AddDescriptorActions(void* actions, IReadOnlyDictionary<int, int> map)
    {
        var pairs = map.OrderBy(kv => kv.Key).ToArray();
        var highest = pairs.Length == 0 ? 2 : Math.Max(pairs.Max(p => p.Key), pairs.Max(p => p.Value));
        var park = highest + 1;
        for (var i = 0; i < pairs.Length; i++)
            Check(Sys.PosixSpawnFileActionsAddDup2(actions, pairs[i].Value, park + i), "posix_spawn_file_actions_adddup2");
        for (var i = 0; i < pairs.Length; i++)
            Check(Sys.PosixSpawnFileActionsAddDup2(actions, park + i, pairs[i].Key), "posix_spawn_file_actions_adddup2");
        var keepBelow = pairs.Length == 0 ? 0 : pairs.Max(p => p.Key) + 1;
        Check(Sys.PosixSpawnFileActionsAddCloseFrom(actions, keepBelow), "posix_spawn_file_actions_addclosefrom_np");
    }

    private static void Check(Errno error, string call)
    {
        if (error != 0) throw new SyscallException(call, error);
    }
}
