using System.Buffers.Binary;
using System.Collections.Concurrent;
using OpenMosix.Linux.Proc;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>
/// Home's side of the copy's calls about the children it left here: the deputy, still their parent, makes each call
/// itself (injected, <see cref="IDeputyHost.CallInDeputy"/>), so the kernel checks and answers exactly as for the
/// process at home. Waits are made with WNOHANG; one the copy made blocking is tried again whenever a signal reaches
/// the deputy (a child's SIGCHLD) and every <see cref="SliceMs"/> ms, until it has a result, the copy's node cancels
/// it (the copy's call was interrupted) or the relay ends.
/// </summary>
internal sealed class HomeChildCalls : IDisposable
{
    private const int SliceMs = 200;
    private const long Wait4 = 61, Waitid = 247, Kill = 62, Tgkill = 234, RtSigqueueinfo = 129;
    private readonly int _pid;
    private readonly IDeputyHost _deputy;
    private readonly Func<ForwardReply, Task> _send;
    private readonly CancellationToken _stop;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<uint, CancellationTokenSource> _waiting = new();
    private TaskCompletionSource _signalled = NewSignal();

    public HomeChildCalls(int pid, IDeputyHost deputy, Func<ForwardReply, Task> send, ILogger logger, CancellationToken stop)
    {
        _pid = pid;
        _deputy = deputy;
        _send = send;
        _logger = logger;
        _stop = stop;
        deputy.SignalArrived += OnSignal;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void OnSignal(int pid, ArrivedSignal signal)
    {
        if (pid == _pid) Interlocked.Exchange(ref _signalled, NewSignal()).TrySetResult();
    }

    /// <summary>Takes a call about children (checked already) and answers it when it is done.</summary>
    public void Take(ForwardRequest call)
    {
        if (call.Op == ForwardOp.Cancel)
        {
            if (_waiting.TryGetValue((uint)call.A0, out var cancel)) cancel.Cancel();
            return;
        }
        _ = Task.Run(() => AnswerAsync(call), CancellationToken.None);
    }

    private async Task AnswerAsync(ForwardRequest call)
    {
        ForwardReply reply;
        try
        {
            reply = call.Op switch
            {
                ForwardOp.Wait or ForwardOp.WaitId => await WaitAsync(call).ConfigureAwait(false),
                ForwardOp.Kill when DiscardedHere(call) => new(call.Id, DiscardedInOrphanedGroup),
                ForwardOp.Kill => new(call.Id, InDeputy(Kill, [], _ => [call.A0, call.A1])),
                ForwardOp.ThreadKill => new(call.Id, InDeputy(Tgkill, [], _ => [call.A0, call.A1, call.A2])),
                ForwardOp.QueueSignal => new(call.Id, InDeputy(RtSigqueueinfo, call.Data.ToArray(), at => [call.A0, call.A1, at])),
                ForwardOp.ParentPid => new(call.Id, ProcFs.ReadStatus(_pid).PPid),
                _ => new(call.Id, -(long)Errno.EINVAL),
            };
        }
        catch (Exception e)
        {
            // The deputy is gone or no longer one (it came home), or the injection failed: the call is answered all the
            // same, so the copy never waits for a reply that will not come; the relay finds out about the rest.
            _logger.LogDebug("Process {Pid}: forwarded {Op} could not be made in its deputy: {Reason}", _pid, call.Op, e.Message);
            reply = new(call.Id, -(long)Errno.EINTR);
        }
        if (!_stop.IsCancellationRequested) await _send(reply).ConfigureAwait(false);
    }

    /// <summary>The answer to a terminal stop the copy sent itself (made here as the deputy's own) that home's kernel
    /// discards, the deputy's group being orphaned here (no job control: started by setsid, nohup-like, or its shell
    /// gone): kill returns 0 at home and nothing stops, so the copy, which its node stopped while it asked, is to go on.
    /// ECANCELED, which kill of its own PID with a valid signal never returns. A node that predates it takes the op for
    /// failed and reports the copy's stop home as any other (the deputy then stops by SIGSTOP: seen stopped, not lost);
    /// a positive result would break the wire's rules for a kill (ChildCallWire) and end the stay.</summary>
    public const long DiscardedInOrphanedGroup = -(long)Errno.ECANCELED;

    /// <summary>Whether <paramref name="call"/> is the copy's terminal stop to itself and the deputy's group is orphaned
    /// here, where the kernel would discard it for the unmoved process: it is then not made at all (made, a stop the
    /// deputy catches would stop it by the default action, DeputyKeeper.SelfStops).</summary>
    private bool DiscardedHere(ForwardRequest call) =>
        call.A0 == _pid && Array.IndexOf(OpenMosix.Linux.Seccomp.ForwardingFilter.TerminalStops, (int)call.A1) >= 0
        && OrphanedGroups.OfProcess(_pid);

    private long InDeputy(long number, byte[] scratch, Func<long, long[]> arguments) => _deputy.CallInDeputy(_pid, number, scratch, arguments);

    /// <summary>wait4 or waitid in the deputy, with WNOHANG, until it has something, when the copy's call blocks.</summary>
    private async Task<ForwardReply> WaitAsync(ForwardRequest call)
    {
        var isWait4 = call.Op == ForwardOp.Wait;
        var options = isWait4 ? call.A1 : call.A2;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(_stop);
        _waiting[call.Id] = cancel;
        try
        {
            while (true)
            {
                var signalled = Volatile.Read(ref _signalled).Task;
                var scratch = new byte[isWait4 ? 8 + ChildCallWire.RusageBytes : ChildCallWire.WaitIdReplyBytes];
                var result = isWait4
                    ? InDeputy(Wait4, scratch, at => [call.A0, at, options | ChildCallWire.WNoHang, at + 8])
                    : InDeputy(Waitid, scratch, at => [call.A0, call.A1, at, options | ChildCallWire.WNoHang, at + ChildCallWire.SigInfoBytes]);
                var found = isWait4 ? result > 0 : result == 0 && BinaryPrimitives.ReadInt32LittleEndian(scratch.AsSpan(16)) != 0;
                if (found || result < 0 || (options & ChildCallWire.WNoHang) != 0)
                    return new ForwardReply(call.Id, found && isWait4 ? 1 : result)
                    {
                        Data = found ? WaitData(isWait4, (int)result, scratch) : result < 0 || isWait4 ? ReadOnlyMemory<byte>.Empty : scratch,
                    };
                if (cancel.IsCancellationRequested) return new ForwardReply(call.Id, -(long)Errno.EINTR);
                try
                {
                    await Task.WhenAny(signalled, Task.Delay(SliceMs, cancel.Token)).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Looked at once more: a child may have changed state as the cancel came.
                }
            }
        }
        finally
        {
            _waiting.TryRemove(call.Id, out _);
        }
    }

    /// <summary>wait4's scratch holds the status at 0 and the rusage at 8; the reply carries the child's PID first.</summary>
    private static byte[] WaitData(bool isWait4, int child, byte[] scratch)
    {
        if (!isWait4) return scratch;
        var data = new byte[ChildCallWire.WaitReplyBytes];
        BinaryPrimitives.WriteInt32LittleEndian(data, child);
        scratch.AsSpan(0, ChildCallWire.StatusBytes).CopyTo(data.AsSpan(4));
        scratch.AsSpan(8, ChildCallWire.RusageBytes).CopyTo(data.AsSpan(4 + ChildCallWire.StatusBytes));
        return data;
    }

    public void Dispose()
    {
        _deputy.SignalArrived -= OnSignal;
        foreach (var cancel in _waiting.Values)
        {
            try
            {
                cancel.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // That wait just ended.
            }
        }
    }
}
