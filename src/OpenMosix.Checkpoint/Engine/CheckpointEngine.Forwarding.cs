using OpenMosix.Checkpoint.Restore;
using static OpenMosix.Checkpoint.Tracing.SyscallNumbers;

namespace OpenMosix.Checkpoint.Engine;

/// <summary>What home does to a deputy for the descriptors it serves to the copy.</summary>
public sealed partial class CheckpointEngine
{
    /// <summary>The descriptors of <paramref name="pid"/> a migration leaves at home and forwards (read from /proc).</summary>
    public static IReadOnlyList<int> ForwardableDescriptors(int pid, CantMove.HomePaths? homePaths = null)
    {
        var descriptors = ProcFs.ReadDescriptors(pid);
        var internalPipes = CantMove.InternalPipes.Find(pid, descriptors);
        return [.. descriptors.Where(d => FileStatus.TryOf($"/proc/{pid}/fd/{d.Fd}", out var st, out _)
                                        && CantMove.ForwardedDescriptors.IsForwarded(d.Fd, d.Target, st!.Type, internalPipes, homePaths))
            .Select(d => d.Fd)];
    }

    /// <summary>
    /// The copy closed a forwarded descriptor: the deputy closes it too, so that the other end sees it closed (a
    /// reader at home gets end of file once no writer is left). Returns what close returned (0 or a negated errno).
    /// </summary>
    public long CloseInDeputy(int pid, int fd)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _tracer.RunBrief(pid, () =>
        {
            var trampoline = _deputies.Stop(pid);
            var regs = Ptrace.GetRegs(pid);
            try
            {
                return new SyscallInjector(pid, trampoline + StubElf.SyscallOffset, regs).Raw(Close, fd);
            }
            finally
            {
                Ptrace.SetRegs(pid, regs);
                _deputies.Resume(pid, trampoline);
            }
        });
    }
}
