using Microsoft.Win32.SafeHandles;
using OpenMosix.Linux.Proc;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>
/// What home's carriers of calls the deputy makes itself (<see cref="HomePathCalls"/>, <see cref="HomeSocketCalls"/>)
/// do alike: each call answered off the forwarder's thread, and a descriptor the deputy just made for its copy (a
/// socket, a file opened below a home path) made one of the copy's forwarded descriptors: omd takes its own duplicate
/// out of the deputy (pidfd_getfd) and serves it from then on, and the deputy keeps it too, under the copy's number,
/// for when the process comes home.
/// </summary>
internal static class DeputyCalls
{
    /// <summary>Answers <paramref name="call"/> with what <paramref name="answer"/> returns, on a task of its own (it
    /// waits for a call injected into the deputy); unless <paramref name="stop"/> is set by then.</summary>
    public static void Answer(ForwardRequest call, int pid, Func<ForwardRequest, ForwardReply> answer, Func<ForwardReply, Task> send,
        ILogger logger, CancellationToken stop) =>
        _ = Task.Run(() => AnswerAsync(call, pid, answer, send, logger, stop), CancellationToken.None);

    private static async Task AnswerAsync(ForwardRequest call, int pid, Func<ForwardRequest, ForwardReply> answer,
        Func<ForwardReply, Task> send, ILogger logger, CancellationToken stop)
    {
        ForwardReply reply;
        try
        {
            reply = answer(call);
        }
        catch (Exception e)
        {
            // The deputy is gone or no longer one, or the injection failed: answered all the same, so the copy never
            // waits for a reply that will not come.
            logger.LogDebug("Process {Pid}: forwarded {Op} could not be made in its deputy: {Reason}", pid, call.Op, e.Message);
            reply = new(call.Id, -(long)Errno.EINTR);
        }
        if (!stop.IsCancellationRequested) await send(reply).ConfigureAwait(false);
    }

    /// <summary>
    /// Adopts the deputy's descriptor <paramref name="made"/> as the copy's <paramref name="number"/> (after
    /// <paramref name="prepare"/>, if any, set omd's duplicate up) and answers <paramref name="call"/>: 0, or EBUSY where
    /// <paramref name="adopt"/> refuses the number (the deputy's descriptor closed). Where omd cannot take its duplicate,
    /// the deputy's is closed and the error thrown.
    /// </summary>
    public static ForwardReply Adopt(ForwardRequest call, int pid, IDeputyHost deputy, int made, int number,
        Func<int, SafeFileHandle, int, bool> adopt, Action<SafeFileHandle>? prepare = null)
    {
        SafeFileHandle handle;
        try
        {
            using var process = PidFd.Open(pid);
            handle = process.GetFd(made);
        }
        catch
        {
            deputy.CloseDescriptor(pid, made);
            throw;
        }
        prepare?.Invoke(handle);
        if (adopt(number, handle, made)) return new(call.Id, 0);
        deputy.CloseDescriptor(pid, made);
        handle.Dispose();
        return new(call.Id, -(long)Errno.EBUSY);
    }
}
