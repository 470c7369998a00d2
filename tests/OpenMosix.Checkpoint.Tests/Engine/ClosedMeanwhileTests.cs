using OpenMosix.Checkpoint.CantMove;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Checkpoint.Tests.Engine;

/// <summary>
/// A descriptor listed from /proc and closed before its fdinfo is read: a shell that forks all the time closes its
/// command substitution's pipe while it is analysed for a move (the AdoptionLabTests flake of 7 December). The
/// analysis goes on without it instead of failing with "no such process" for a process that runs. The moment is made
/// certain: the list names pipe descriptors an idle child does not hold, as if it had closed them since.
/// </summary>
public sealed class ClosedMeanwhileTests
{
    private static ChildProcess Sleeper()
    {
        var sleeper = ChildProcess.Start("/bin/sleep", ["60"]);
        Poll.Until(() => ProcFs.ReadCommandLine(sleeper.Pid).Count > 0, TimeSpan.FromSeconds(10), "sleep to run");
        return sleeper;
    }

    [Fact]
    public void Pipe_descriptors_closed_after_they_were_listed_are_left_out_of_the_internal_pipes()
    {
        using var sleeper = Sleeper();
        List<(int Fd, string Target)> listed = [(40, "pipe:[4242]"), (41, "pipe:[4242]")];

        Assert.Empty(InternalPipes.Find(sleeper.Pid, listed));
    }

    [Fact]
    public void The_fdinfo_of_a_descriptor_not_open_is_null_and_that_of_an_open_one_is_read()
    {
        using var sleeper = Sleeper();

        Assert.Null(ProcFs.ReadFdInfoIfOpen(sleeper.Pid, 40));
        Assert.NotNull(ProcFs.ReadFdInfoIfOpen(sleeper.Pid, 1));
    }
}
