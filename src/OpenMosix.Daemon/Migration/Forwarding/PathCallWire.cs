namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>
/// The calls that name a path below the home paths (<see cref="ForwardOp.Open"/> to <see cref="ForwardOp.Access"/>) in
/// Forward frames: what each may carry, checked on both ends. The path and each result must fit the deputy's data
/// area (<see cref="Checkpoint.Engine.CheckpointEngine.DeputyScratchBytes"/>), where the call is made.
/// </summary>
public static class PathCallWire
{
    public const int AtFdCwd = -100;
    public const int StatBytes = 144, StatxBytes = 256;
    /// <summary>The longest path sent home (without its NUL): the rest of the deputy's area holds the call's result.</summary>
    public const int MaxPath = 3072;
    public const long AtSymlinkNoFollow = 0x100, AtNoAutomount = 0x800, AtEaccess = 0x200, AtStatxSyncType = 0x6000;
    private const long StatFlags = AtSymlinkNoFollow | AtNoAutomount;

    public static bool IsPathCall(ForwardOp op) => op is >= ForwardOp.Open and <= ForwardOp.Access;

    /// <summary>Why <paramref name="call"/> is not a valid path call, or null.</summary>
    public static string? Problem(ForwardRequest call)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (call.Address.Length != 0) return $"a forwarded {call.Op} carries an address";
        if (call.Data.Length is 0 or > MaxPath || call.Data.Span.Contains((byte)0)) return $"a forwarded {call.Op} with a path of {call.Data.Length} bytes";
        if (call.Fd != AtFdCwd && call.Fd is < 0 or > ForwardWire.MaxDescriptor) return $"a forwarded {call.Op} relative to fd {call.Fd}";
        if (call.Fd == AtFdCwd && call.Data.Span[0] != (byte)'/') return $"a forwarded {call.Op} of a relative path without a directory";
        return call.Op switch
        {
            ForwardOp.Open => call.A2 is < 3 or > ForwardWire.MaxDescriptor || call.A0 is < 0 or > uint.MaxValue || call.A1 is < 0 or > 0xfff
                ? $"a forwarded open with flags {call.A0}, mode {call.A1}, number {call.A2}" : null,
            ForwardOp.PathStatus => (call.A0 & ~StatFlags) != 0 ? $"a forwarded stat with flags {call.A0:x}" : null,
            ForwardOp.PathStatx => (call.A0 & ~(StatFlags | AtStatxSyncType)) != 0 || call.A1 is < 0 or > uint.MaxValue
                ? $"a forwarded statx with flags {call.A0:x}, mask {call.A1:x}" : null,
            ForwardOp.ReadLink => call.A0 is < 1 or > ForwardWire.MaxData ? $"a forwarded readlink with room for {call.A0} bytes" : null,
            ForwardOp.Access => call.A0 is < 0 or > 7 || (call.A1 & ~(AtSymlinkNoFollow | AtEaccess)) != 0
                ? $"a forwarded access with mode {call.A0}, flags {call.A1:x}" : null,
            _ => $"{call.Op} is not a path call",
        };
    }
}
