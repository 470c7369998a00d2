using System.Buffers.Binary;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>
/// The calls about a moved process's children and parent (<see cref="ForwardOp.Wait"/> to <see cref="ForwardOp.Cancel"/>)
/// in Forward frames: what each may carry, checked on both ends before anything is done with it. A request or a reply
/// that breaks these rules ends the link with a one-line reason.
/// </summary>
public static class ChildCallWire
{
    public const int StatusBytes = 4, SigInfoBytes = 128, RusageBytes = 144;
    /// <summary>wait4's reply when it found a child (its result is then 1, since a PID may be past the bound a result
    /// carrying data has on the wire): the child's PID, its status, then the struct rusage.</summary>
    public const int WaitReplyBytes = 4 + StatusBytes + RusageBytes;
    /// <summary>waitid's reply: the siginfo, then the struct rusage.</summary>
    public const int WaitIdReplyBytes = SigInfoBytes + RusageBytes;

    public const long WNoHang = 1, WUntraced = 2, WExited = 4, WContinued = 8, WNoWait = 0x1000000;
    private const long WNoThread = 0x20000000, WAll = 0x40000000, WClone = 0x80000000;
    private const long WaitOptions = WNoHang | WUntraced | WContinued | WNoThread | WAll | WClone;
    private const long WaitIdOptions = WNoHang | WUntraced | WExited | WContinued | WNoWait | WNoThread | WAll | WClone;
    /// <summary>waitid's id types served at home: P_ALL, P_PID, P_PGID (a pidfd names a process of this node).</summary>
    public const long PAll = 0, PPid = 1, PPgid = 2;

    public static bool IsChildCall(ForwardOp op) => op is >= ForwardOp.Wait and <= ForwardOp.Cancel;

    /// <summary>Why <paramref name="call"/> is not a valid call about children, or null.</summary>
    public static string? Problem(ForwardRequest call)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (call.Fd != 0 || call.Address.Length != 0) return $"a forwarded {call.Op} names a descriptor or an address";
        if (call.Op != ForwardOp.QueueSignal && call.Data.Length != 0) return $"a forwarded {call.Op} carries {call.Data.Length} bytes of data";
        return call.Op switch
        {
            ForwardOp.Wait => Pid(call.A0) ?? Options(call.A1, WaitOptions) ?? Zero(call.A2, call.Op),
            ForwardOp.WaitId => (call.A0 is PAll or PPid or PPgid ? null : $"a forwarded waitid of id type {call.A0}")
                ?? Pid(call.A1) ?? Options(call.A2, WaitIdOptions),
            ForwardOp.Kill => Pid(call.A0) ?? Signal(call.A1, 0) ?? Zero(call.A2, call.Op),
            ForwardOp.ThreadKill => Pid(call.A0) ?? Pid(call.A1) ?? Signal(call.A2, 0),
            ForwardOp.QueueSignal => Pid(call.A0) ?? Signal(call.A1, 1) ?? Zero(call.A2, call.Op)
                ?? (call.Data.Length == SigInfoBytes ? null : $"a forwarded rt_sigqueueinfo with a siginfo of {call.Data.Length} bytes, not {SigInfoBytes}"),
            ForwardOp.ParentPid => Zero(call.A0 | call.A1 | call.A2, call.Op),
            ForwardOp.Cancel => call.A0 is >= 0 and <= uint.MaxValue ? Zero(call.A1 | call.A2, call.Op) : $"a forwarded cancel of call {call.A0}",
            _ => $"{call.Op} is not a call about children",
        };
    }

    /// <summary>Why <paramref name="reply"/> cannot be the result of a call <paramref name="op"/>, or null.</summary>
    public static string? Problem(ForwardOp op, ForwardReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        if (reply.Extra.Length != 0) return $"the result of a forwarded {op} carries extra bytes";
        var data = op switch { ForwardOp.Wait => WaitReplyBytes, ForwardOp.WaitId => WaitIdReplyBytes, _ => 0 };
        if (reply.Result < 0 || (op == ForwardOp.Wait && reply.Result == 0))
            return reply.Data.Length == 0 ? null : $"a failed forwarded {op} carries data";
        var expected = op switch
        {
            ForwardOp.Wait => reply.Result == 1,
            ForwardOp.ParentPid => reply.Result <= int.MaxValue,
            _ => reply.Result == 0,
        };
        if (!expected) return $"a forwarded {op} returned {reply.Result}";
        if (reply.Data.Length != data) return $"the result of a forwarded {op} carries {reply.Data.Length} bytes, not {data}";
        var child = op == ForwardOp.Wait ? BinaryPrimitives.ReadInt32LittleEndian(reply.Data.Span) : 1;
        return child > 0 ? null : $"a forwarded wait4 found process {child}";
    }

    private static string? Pid(long pid) => pid is >= int.MinValue + 1 and <= int.MaxValue ? null : $"a forwarded call names process {pid}";

    private static string? Signal(long signal, long lowest) => signal >= lowest && signal <= 64 ? null : $"a forwarded call sends signal {signal}";

    private static string? Options(long options, long allowed) =>
        (options & ~allowed) == 0 ? null : $"a forwarded wait with unknown options 0x{options & ~allowed:x}";

    private static string? Zero(long value, ForwardOp op) => value == 0 ? null : $"a forwarded {op} with an argument it does not take";
}
