using OpenMosix.Daemon.Migration.Guest;
using OpenMosix.Linux;

namespace OpenMosix.Daemon.Tests.Migration;

/// <summary>
/// A copy that ended while what it forked holds its terminal open: its exit status goes home once what it wrote to the
/// terminal was sent (<see cref="PumpedBytes.SentAllWrittenToTerminalAsync"/>). With a real pseudo-terminal in packet
/// mode, as a guest's, whose slave stays open as the children's would.
/// </summary>
public sealed class TerminalCountTests
{
    private const int Written = 10_000;

    [Fact]
    public async Task The_wait_for_a_terminals_output_ends_only_once_everything_written_to_it_was_sent_though_its_slave_stays_open()
    {
        var (master, slave) = Terminal.OpenPseudoTerminal(null, null);
        using (master)
        using (slave)
        {
            // More than the master's read buffer (4 KiB) holds: the rest waits in the kernel's flip buffers.
            Descriptors.WriteAll(slave, Enumerable.Repeat((byte)'x', Written).ToArray());
            var counted = new PumpedBytes();
            var drained = counted.SentAllWrittenToTerminalAsync(master);
            Assert.False(drained.IsCompleted);

            // The pump, in small reads: each one sent before the wait may end.
            var buffer = new byte[1 + 1024];
            var sent = 0;
            for (var reads = 0; !drained.IsCompleted && reads < 1000; reads++)
            {
                if (counted.ReadPacket(master, buffer) is not { } n || n <= 1 || buffer[0] != 0) continue;
                Assert.False(drained.IsCompleted, $"the wait ended with {sent} of {Written} bytes sent");
                sent += n - 1;
                counted.Sent(n - 1);
            }
            await drained.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            Assert.Equal(Written, sent);
        }
    }

    [Fact]
    public async Task The_wait_for_a_terminal_nothing_was_written_to_ends_at_once()
    {
        var (master, slave) = Terminal.OpenPseudoTerminal(null, null);
        using (master)
        using (slave)
            await new PumpedBytes().SentAllWrittenToTerminalAsync(master).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
    }
}
