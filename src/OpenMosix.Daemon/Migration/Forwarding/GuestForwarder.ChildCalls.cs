using System.Buffers.Binary;
using OpenMosix.Linux.Seccomp;
using OpenMosix.Linux.Proc;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>
/// The copy's calls about its children and its parent. Children it had at home stay there, children of its deputy:
/// waits for them, signals to them (or to a process group at home) and getppid are carried out by the deputy
/// (<see cref="HomeChildCalls"/>). Children the copy forked here are this node's: calls about them, and every call
/// of those children themselves (they inherited the filter), are let through to the kernel. A wait for any child
/// looks both ways. A status home reaped for a call a signal interrupted is kept for the next wait.
/// </summary>
internal sealed partial class GuestForwarder
{
    private const int ChildPollMs = 50, CancelCheckMs = 100, AncestorsLooked = 16;
    private readonly List<(ForwardOp Op, int Child, ForwardReply Reply)> _keptWaits = [];
    // Waits one at a time, as reads on one fd are: a wait restarted after a signal, or one made in the signal's
    // handler, must find the status its interrupted self got at home, not go home while that is on its way (home
    // would answer ECHILD or nothing for a child already reaped).
    private readonly SemaphoreSlim _waitGate = new(1, 1);
    // Set once home had no child at all for a wait for any: a deputy forks no more, so it never has one again.
    private volatile bool _homeChildless;

    /// <summary>The copy's call about children or parent, served; null for a call of another kind.</summary>
    private Task<Outcome>? ServeChildCall(SeccompNotice n)
    {
        if (Array.IndexOf(ForwardingFilter.ChildCalls, n.Nr) < 0) return null;
        if (!Directory.Exists($"/proc/{_pid}/task/{n.Pid}")) return Task.FromResult(Outcome.RunLocally);
        return n.Nr switch
        {
            SyscallNr.Wait4 => WaitAsync(n, ForwardOp.Wait, (int)n.Args[0], (long)(uint)n.Args[2],
                new ForwardRequest(0, ForwardOp.Wait, 0, (int)n.Args[0], (long)(uint)n.Args[2])),
            SyscallNr.Waitid => (long)(uint)n.Args[0] switch
            {
                ChildCallWire.PAll or ChildCallWire.PPid or ChildCallWire.PPgid =>
                    WaitAsync(n, ForwardOp.WaitId, WaitSelector((long)(uint)n.Args[0], (int)n.Args[1]), (long)(uint)n.Args[3],
                        new ForwardRequest(0, ForwardOp.WaitId, 0, (long)(uint)n.Args[0], (int)n.Args[1], (long)(uint)n.Args[3])),
                _ => Task.FromResult(Outcome.RunLocally), // a pidfd names a process of this node
            },
            SyscallNr.Kill => SelfStop(n, (int)n.Args[0], (int)n.Args[1])
                ?? SignalAsync((int)n.Args[0], (int)n.Args[1], new ForwardRequest(0, ForwardOp.Kill, 0, (int)n.Args[0], (int)n.Args[1])),
            SyscallNr.Tgkill => SelfStop(n, (int)n.Args[0], (int)n.Args[2])
                ?? SignalAsync((int)n.Args[0], 0, new ForwardRequest(0, ForwardOp.ThreadKill, 0, (int)n.Args[0], (int)n.Args[1], (int)n.Args[2])),
            SyscallNr.RtSigqueueinfo => SelfStop(n, (int)n.Args[0], (int)n.Args[1]) ?? QueueSignalAsync(n),
            _ => ParentAsync(),
        };
    }

    /// <summary>waitid's target as wait4 spells it: -1 any child, N that one, 0 the caller's group, -G group G.</summary>
    private static int WaitSelector(long idType, int id) => idType switch
    {
        ChildCallWire.PAll => -1,
        ChildCallWire.PPid => id,
        _ => id == 0 ? 0 : -id,
    };

    private async Task<Outcome> ParentAsync() => new((await CallAsync(new ForwardRequest(0, ForwardOp.ParentPid, 0)).ConfigureAwait(false)).Result);

    private Task<Outcome> QueueSignalAsync(SeccompNotice n)
    {
        var info = new byte[ChildCallWire.SigInfoBytes];
        ProcessMemory.Read(_pid, n.Args[2], info);
        return SignalAsync((int)n.Args[0], 0, new ForwardRequest(0, ForwardOp.QueueSignal, 0, (int)n.Args[0], (int)n.Args[1]) { Data = info });
    }

    /// <summary>
    /// A signal to <paramref name="target"/> (kill's spelling): to the copy itself, a process it forked here or their
    /// group, or to every process (-1), the kernel sends it here; to any other process or group, the deputy sends it
    /// at home. kill(0) reaches the deputy's group at home (the deputy's signal comes back to the copy) and the
    /// copy's children here in its group.
    /// </summary>
    private async Task<Outcome> SignalAsync(int target, int groupSignal, ForwardRequest atHome)
    {
        var local = LocalChildren();
        if (target == -1 || target == _pid || (target > 0 && IsLocalDescendant(target)) || (target < -1 && local.Any(c => c.Group == -target)))
            return Outcome.RunLocally;
        if (target == 0 && groupSignal > 0)
        {
            var own = ProcFs.ReadStat(_pid).ProcessGroup;
            foreach (var child in local.Where(c => c.Group == own))
            {
                try
                {
                    Signals.Kill(child.Pid, groupSignal);
                }
                catch (SyscallException)
                {
                    // It ended meanwhile.
                }
            }
        }
        return new((await CallAsync(atHome).ConfigureAwait(false)).Result);
    }

    private List<(int Pid, int Group, char State)> LocalChildren()
    {
        var children = new List<(int, int, char)>();
        foreach (var child in ProcFs.ReadChildren(_pid))
        {
            try
            {
                var stat = ProcFs.ReadStat(child);
                children.Add((child, stat.ProcessGroup, stat.State));
            }
            catch (Exception e) when (e is IOException or ProcessAccessException or UnauthorizedAccessException or FormatException)
            {
                // Reaped meanwhile.
            }
        }
        return children;
    }

    private bool IsLocalDescendant(int pid)
    {
        for (var (at, step) = (pid, 0); at > 1 && step < AncestorsLooked; step++)
        {
            try
            {
                at = ProcFs.ReadStat(at).PPid;
            }
            catch (Exception e) when (e is IOException or ProcessAccessException or UnauthorizedAccessException or FormatException)
            {
                return false;
            }
            if (at == _pid) return true;
        }
        return false;
    }

    private static bool Selects(int selector, (int Pid, int Group, char State) child, int ownGroup) => selector switch
    {
        > 0 => child.Pid == selector,
        -1 => true,
        0 => child.Group == ownGroup,
        _ => child.Group == -selector,
    };

    /// <summary>wait4 or waitid: from what was kept, at home, here, or both ways for a wait that may take either.</summary>
    private async Task<Outcome> WaitAsync(SeccompNotice n, ForwardOp op, int selector, long options, ForwardRequest atHome)
    {
        if (!await EnterWaitAsync(n.Id).ConfigureAwait(false)) return Outcome.Interrupted;
        try
        {
            return await WaitInOrderAsync(n, op, selector, options, atHome).ConfigureAwait(false);
        }
        finally
        {
            _waitGate.Release();
        }
    }

    /// <summary>Takes the wait gate; false when the call went away meanwhile. Parked while the copy is sent home.</summary>
    private async Task<bool> EnterWaitAsync(ulong notice)
    {
        while (!await _waitGate.WaitAsync(HoldSliceMs).ConfigureAwait(false))
            if (!await ParkWhileHoldingAsync(notice).ConfigureAwait(false)) return false;
        return true;
    }

    private async Task<Outcome> WaitInOrderAsync(SeccompNotice n, ForwardOp op, int selector, long options, ForwardRequest atHome)
    {
        if (TakeKept(op, selector) is { } kept) return Deliver(n, op, selector, kept);
        var ownGroup = ProcFs.ReadStat(_pid).ProcessGroup;
        var mine = LocalChildren().Where(c => Selects(selector, c, ownGroup)).ToList();
        if (selector > 0 ? mine.Count > 0 : _homeChildless) return Outcome.RunLocally;
        var dontWait = (options & ChildCallWire.WNoHang) != 0;
        if (mine.Count == 0)
            return await HomeWaitAsync(n, atHome, blocking: !dontWait).ConfigureAwait(false) is { } reply ? Deliver(n, op, selector, reply) : Outcome.Interrupted;
        var peek = atHome with { A1 = op == ForwardOp.Wait ? options | ChildCallWire.WNoHang : atHome.A1, A2 = op == ForwardOp.WaitId ? options | ChildCallWire.WNoHang : 0 };
        while (true)
        {
            if (await HomeWaitAsync(n, peek, blocking: false).ConfigureAwait(false) is not { } reply) return Outcome.Interrupted;
            if (Found(op, reply) > 0) return Deliver(n, op, selector, reply);
            if (reply.Result == -(long)Errno.ECHILD)
            {
                if (selector == -1) _homeChildless = true;
                return Outcome.RunLocally;
            }
            var waitable = (options & ChildCallWire.WUntraced) != 0 ? "ZT" : "Z";
            if (LocalChildren().Any(c => Selects(selector, c, ownGroup) && waitable.Contains(c.State, StringComparison.Ordinal))) return Outcome.RunLocally;
            if (dontWait) return Deliver(n, op, selector, reply);
            if (!StillWaits(n.Id)) return Outcome.Interrupted;
            await Task.Delay(ChildPollMs).ConfigureAwait(false);
        }
    }

    /// <summary>The child a wait's reply found (0: none).</summary>
    private static int Found(ForwardOp op, ForwardReply reply) =>
        reply.Result < 0 || reply.Data.Length == 0 ? 0
        : BinaryPrimitives.ReadInt32LittleEndian(reply.Data.Span[(op == ForwardOp.Wait ? 0 : 16)..]);

    /// <summary>
    /// A wait carried out at home. One that blocks there is given up (a cancel) when the copy's call no longer waits
    /// or the copy is about to go home; a call still waiting then is parked, not counted as under way, until it is
    /// gone (the freeze interrupts it, and it is restarted wherever the process runs next) or the copy stays here
    /// after all, when it is sent again. Null when the call is gone with nothing found for it.
    /// </summary>
    private async Task<ForwardReply?> HomeWaitAsync(SeccompNotice n, ForwardRequest request, bool blocking)
    {
        while (true)
        {
            if (!await ParkWhileHoldingAsync(n.Id).ConfigureAwait(false)) return null;
            var id = (uint)Interlocked.Increment(ref _nextId);
            var done = new TaskCompletionSource<ForwardReply>(TaskCreationOptions.RunContinuationsAsynchronously);
            _pending[id] = (request.Op, done);
            if (_stopped || !await TrySendAsync(request with { Id = id }).ConfigureAwait(false)) Fail(id);
            var cancelled = false;
            while (blocking && !done.Task.IsCompleted)
            {
                await Task.WhenAny(done.Task, Task.Delay(CancelCheckMs)).ConfigureAwait(false);
                if (done.Task.IsCompleted || cancelled || (!_holding && StillWaits(n.Id))) continue;
                cancelled = true;
                await TrySendAsync(new ForwardRequest(0, ForwardOp.Cancel, 0, id)).ConfigureAwait(false);
            }
            var reply = await done.Task.ConfigureAwait(false);
            if (!cancelled || reply.Result != -(long)Errno.EINTR) return reply;
        }
    }

    private async Task<bool> TrySendAsync(ForwardRequest request)
    {
        try
        {
            await _link.SendAsync(FrameType.Forward, ForwardWire.Encode(request)).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is LinkException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>While the copy is being sent home: not counted as under way; false once the call is gone.</summary>
    private async Task<bool> ParkWhileHoldingAsync(ulong notice)
    {
        if (!_holding) return StillWaits(notice);
        Interlocked.Decrement(ref _active);
        try
        {
            while (_holding && !_stopped && StillWaits(notice)) await Task.Delay(HoldSliceMs).ConfigureAwait(false);
            return !_stopped && StillWaits(notice);
        }
        finally
        {
            Interlocked.Increment(ref _active);
        }
    }

    private bool StillWaits(ulong notice)
    {
        try
        {
            return SeccompListener.IsValid(_listener, notice);
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Writes what a wait found into the copy's memory and answers with the child's PID (wait4) or 0
    /// (waitid); a call that no longer waits leaves its child's status kept for the next wait.</summary>
    private Outcome Deliver(SeccompNotice n, ForwardOp op, int selector, ForwardReply reply)
    {
        var child = Found(op, reply);
        if (reply.Result < 0 || (op == ForwardOp.Wait && child == 0))
        {
            if (reply.Result == -(long)Errno.ECHILD && selector == -1) _homeChildless = true;
            return new(reply.Result);
        }
        if (child > 0 && !StillWaits(n.Id))
        {
            Keep(op, child, reply);
            return Outcome.Interrupted;
        }
        var data = reply.Data.Span;
        var (info, usage) = op == ForwardOp.Wait ? (n.Args[1], n.Args[3]) : (n.Args[2], n.Args[4]);
        var infoBytes = op == ForwardOp.Wait ? data.Slice(4, ChildCallWire.StatusBytes) : data[..ChildCallWire.SigInfoBytes];
        if (info != 0) ProcessMemory.Write(_pid, info, infoBytes);
        if (usage != 0) ProcessMemory.Write(_pid, usage, data[^ChildCallWire.RusageBytes..]);
        return new(op == ForwardOp.Wait ? child : 0, child > 0 ? () => Keep(op, child, reply) : null);
    }

    private void Keep(ForwardOp op, int child, ForwardReply reply)
    {
        lock (_keptWaits) _keptWaits.Add((op, child, reply));
    }

    private ForwardReply? TakeKept(ForwardOp op, int selector)
    {
        lock (_keptWaits)
        {
            var at = _keptWaits.FindIndex(k => k.Op == op && (selector <= 0 || k.Child == selector));
            if (at < 0) return null;
            var kept = _keptWaits[at].Reply;
            _keptWaits.RemoveAt(at);
            return kept;
        }
    }
}
