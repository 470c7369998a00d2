using System.Text;
using Microsoft.Win32.SafeHandles;
using OpenMosix.Checkpoint.CantMove;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>
/// Home's side of the copy's calls on paths below the home paths: the deputy makes each itself (injected,
/// <see cref="IDeputyHost.CallInDeputy"/>), so the kernel resolves the path in home's mount namespace, from home's
/// working directory, and checks it with the process's own credentials, as for the process at home. A file it opens
/// is duplicated out of the deputy (pidfd_getfd) and served from then on as a forwarded descriptor under the number the
/// copy gave it, which the deputy keeps it under (the process has it when it comes home). Nothing is cached: each call sees home's file as it is when the call is made.
/// </summary>
internal sealed class HomePathCalls(int pid, IDeputyHost deputy, HomePaths homePaths, Func<int, string?> directoryOf,
    Func<int, SafeFileHandle, int, bool> adopt, Func<ForwardReply, Task> send, ILogger logger, CancellationToken stop)
{
    private const long Openat = 257, Newfstatat = 262, Readlinkat = 267, Statx = 332, Faccessat2 = 439;
    private const long ONonBlock = 0x800, OCloexec = 0x80000;
    private const int Scratch = Checkpoint.Engine.CheckpointEngine.DeputyScratchBytes;

    /// <summary>Takes a path call (checked already) and answers it when it is done.</summary>
    public void Take(ForwardRequest call) => DeputyCalls.Answer(call, pid, Answer, send, logger, stop);

    private ForwardReply Answer(ForwardRequest call)
    {
        var path = Resolve(call, out var error);
        if (path is null) return new(call.Id, error);
        // The path and its NUL first, the result after them, both in the deputy's data area.
        var at = (path.Length + 1 + 7) & ~7;
        var room = Scratch - at;
        var need = call.Op switch
        {
            ForwardOp.PathStatus => PathCallWire.StatBytes,
            ForwardOp.PathStatx => PathCallWire.StatxBytes,
            ForwardOp.ReadLink => (int)Math.Min(call.A0, room),
            _ => 0,
        };
        if (need > room || need < 0) return new(call.Id, -(long)Errno.ENAMETOOLONG);
        var scratch = new byte[at + need];
        path.CopyTo(scratch, 0);
        long r;
        switch (call.Op)
        {
            case ForwardOp.Open:
                return Open(call, scratch);
            case ForwardOp.PathStatus:
                r = InDeputy(Newfstatat, scratch, a => [PathCallWire.AtFdCwd, a, a + at, call.A0]);
                break;
            case ForwardOp.PathStatx:
                r = InDeputy(Statx, scratch, a => [PathCallWire.AtFdCwd, a, call.A0, call.A1, a + at]);
                break;
            case ForwardOp.ReadLink:
                r = InDeputy(Readlinkat, scratch, a => [PathCallWire.AtFdCwd, a, a + at, need]);
                return new ForwardReply(call.Id, r) { Data = r > 0 ? scratch.AsMemory(at, (int)r) : ReadOnlyMemory<byte>.Empty };
            default:
                return new(call.Id, InDeputy(Faccessat2, scratch, a => [PathCallWire.AtFdCwd, a, call.A0, call.A1]));
        }
        return new ForwardReply(call.Id, r) { Data = r == 0 ? scratch.AsMemory(at, need) : ReadOnlyMemory<byte>.Empty };
    }

    /// <summary>
    /// openat in the deputy, non-blocking so that a FIFO cannot hold the deputy (and its tracer) for good, then the
    /// file is taken out of it: omd holds it from then on, as the copy's forwarded descriptor A2.
    /// </summary>
    private ForwardReply Open(ForwardRequest call, byte[] scratch)
    {
        var r = InDeputy(Openat, scratch, a => [PathCallWire.AtFdCwd, a, call.A0 | ONonBlock | OCloexec, call.A1]);
        if (r < 0) return new(call.Id, r);
        return DeputyCalls.Adopt(call, pid, deputy, (int)r, (int)call.A2, adopt, file =>
        {
            if ((call.A0 & ONonBlock) == 0)
                ForwardedCalls.Control(file, ForwardedCalls.FSetFl, (int)(ForwardedCalls.Control(file, ForwardedCalls.FGetFl, 0) & ~ONonBlock));
        });
    }

    /// <summary>The absolute path the call names (a relative one from the forwarded directory it starts at), or null
    /// with the error to answer: a directory the copy does not have forwarded, a path outside the home paths.</summary>
    private byte[]? Resolve(ForwardRequest call, out long error)
    {
        error = 0;
        var path = call.Data.ToArray();
        if (call.Fd != PathCallWire.AtFdCwd)
        {
            if (directoryOf(call.Fd) is not { } directory)
            {
                error = -(long)Errno.EBADF;
                return null;
            }
            path = [.. Encoding.UTF8.GetBytes(directory.TrimEnd('/') + "/"), .. path];
        }
        if (path.Length > PathCallWire.MaxPath)
        {
            error = -(long)Errno.ENAMETOOLONG;
            return null;
        }
        var text = Encoding.UTF8.GetString(path);
        if (homePaths.Covers(text)) return path;
        logger.LogWarning("Process {Pid}: forwarded {Op} of {Path}, which is not below a home path (refused: EACCES)", pid, call.Op, text);
        error = -(long)Errno.EACCES;
        return null;
    }

    private long InDeputy(long number, byte[] scratch, Func<long, long[]> arguments) => deputy.CallInDeputy(pid, number, scratch, arguments);
}
