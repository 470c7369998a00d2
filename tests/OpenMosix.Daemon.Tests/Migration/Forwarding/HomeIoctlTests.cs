using OpenMosix.Daemon.Migration.Forwarding;
using OpenMosix.Linux;

namespace OpenMosix.Daemon.Tests.Migration.Forwarding;

/// <summary>Home carries out only the ioctls of its table, with exactly the argument each takes.</summary>
public sealed class HomeIoctlTests
{
    private const uint FionRead = 0x541B;

    [Fact]
    public void Fionread_on_a_pipe_at_home_counts_its_bytes()
    {
        var (read, write) = Descriptors.CreatePipe();
        using (read)
        using (write)
        {
            ForwardedCalls.Write(write, "abc"u8);
            var reply = HomeCalls.Run(new ForwardRequest(1, ForwardOp.Control, 3, FionRead, 0, 4), read, CancellationToken.None, out _);
            Assert.Equal(0, reply.Result);
            Assert.Equal(new byte[] { 3, 0, 0, 0 }, reply.Extra.ToArray());
        }
    }

    [Theory]
    [InlineData(0x5409u, 0, 0)] // TCSBRK: not in the table
    [InlineData(FionRead, 0, 64)] // asks more back than FIONREAD gives
    [InlineData(FionRead, 4, 4)] // sends an argument FIONREAD does not take
    public void An_ioctl_not_in_the_table_or_not_of_its_shape_is_not_carried_out(uint request, int sent, int wanted)
    {
        var (read, write) = Descriptors.CreatePipe();
        using (read)
        using (write)
        {
            var call = new ForwardRequest(1, ForwardOp.Control, 3, request, 0, wanted) { Data = new byte[sent] };
            var reply = HomeCalls.Run(call, read, CancellationToken.None, out _);
            Assert.Equal(-(long)Errno.ENOTTY, reply.Result);
            Assert.True(reply.Extra.IsEmpty);
        }
    }
}
