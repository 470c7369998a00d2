using System.Diagnostics;
using OpenMosix.Checkpoint.CantMove;
using OpenMosix.Linux;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Checkpoint.Tests.Engine;

/// <summary>
/// Which pipes a migration takes along rebuilt without a write end instead of forwarding them through home: those
/// of this test process itself, with real writers held by real processes.
/// </summary>
public sealed class WriterlessPipeTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(new[] { 5 }, false, 0, true)]
    [InlineData(new[] { 5, 9 }, false, 0, true)]
    [InlineData(new[] { 5 }, true, 0, false)]
    [InlineData(new[] { 5 }, false, 1, false)]
    [InlineData(new[] { 5 }, false, -1, false)]
    [InlineData(new[] { 0 }, false, 0, false)]
    [InlineData(new[] { 2, 5 }, false, 0, false)]
    public void Only_an_empty_pipe_above_stdio_that_nobody_can_write_is_taken_along(int[] fds, bool writerOnNode, int unread, bool taken) =>
        Assert.Equal(taken, WriterlessPipes.IsWriterless(fds, writerOnNode, unread));

    [Fact]
    public void A_read_end_whose_write_end_was_closed_everywhere_is_taken_along_as_an_internal_pipe()
    {
        var (read, write) = Descriptors.CreatePipe();
        using (read)
        {
            write.Dispose();
            Assert.Contains(Target(read), Find());
        }
    }

    [Fact]
    public void A_read_end_whose_writer_is_another_process_stays_forwarded_until_that_writer_ends()
    {
        var (read, write) = Descriptors.CreatePipe();
        using (read)
        {
            var pipe = Target(read);
            using var writer = Process.Start(new ProcessStartInfo("sh", ["-c", $"exec sleep 60 >/proc/{Environment.ProcessId}/fd/{write.DangerousGetHandle()}"])
            {
                RedirectStandardInput = true,
            })!;
            try
            {
                Poll.Until(() => Holds(writer.Id, pipe), Patience, "sleep to hold the pipe's write end");
                write.Dispose();
                Assert.DoesNotContain(pipe, Find());
            }
            finally
            {
                writer.Kill();
                writer.WaitForExit();
            }
            Assert.Contains(pipe, Find());
        }
    }

    [Fact]
    public void A_read_end_with_bytes_still_unread_stays_forwarded_so_that_they_reach_the_reader()
    {
        var (read, write) = Descriptors.CreatePipe();
        using (read)
        {
            Descriptors.WriteAll(write, "x"u8);
            write.Dispose();
            Assert.DoesNotContain(Target(read), Find());
            Span<byte> one = stackalloc byte[1];
            Assert.Equal(1, Descriptors.Read(read, one));
            Assert.Contains(Target(read), Find());
        }
    }

    private static HashSet<string> Find() => InternalPipes.Find(Environment.ProcessId, ProcFs.ReadDescriptors(Environment.ProcessId));

    private static string Target(Microsoft.Win32.SafeHandles.SafeFileHandle fd) => ProcFs.ReadLink(Environment.ProcessId, $"fd/{fd.DangerousGetHandle()}");

    private static bool Holds(int pid, string pipe)
    {
        try
        {
            return ProcFs.ReadDescriptors(pid).Any(d => d.Target == pipe);
        }
        catch (ProcessAccessException)
        {
            return false;
        }
    }
}
