using Microsoft.Win32.SafeHandles;
using OpenMosix.TestSupport;

namespace OpenMosix.Linux.Tests;

/// <summary>
/// Keys a moved job left unread: taken out of a real pseudo-terminal through a second open of its slave after the
/// program's own is closed, thrown away as ^C throws them away, and put back into a terminal for its next reader
/// without a second echo. (TIOCSTI needs CAP_SYS_ADMIN here: the tests run as root, as omd does.)
/// </summary>
public sealed class TerminalInputTests
{
    private static readonly byte[] Raw = TerminalModes(echo: false);

    [Fact]
    public void What_the_master_wrote_and_nobody_read_is_drained_through_the_peer_after_the_programs_slave_is_closed()
    {
        var (master, slave) = Terminal.OpenPseudoTerminal(null, null);
        using (master)
        using (var peer = TerminalInput.OpenPeer(master))
        {
            Descriptors.WriteAll(master, "echo typed ahead\nls\n"u8);
            // The program's own slave goes as the program ends: the queue lives on through the peer.
            slave.Dispose();
            Assert.Equal("echo typed ahead\nls\n", System.Text.Encoding.ASCII.GetString(TerminalInput.Drain(peer)));
            Assert.Empty(TerminalInput.Drain(peer));
        }
    }

    [Fact]
    public void A_flush_throws_away_what_is_queued_and_later_input_is_kept()
    {
        var (master, slave) = Terminal.OpenPseudoTerminal(null, null);
        using (master)
        using (slave)
        using (var peer = TerminalInput.OpenPeer(master))
        {
            Descriptors.WriteAll(master, "before\n"u8);
            // Written and taken in by the line discipline before the flush: a drain that finds nothing would push it.
            Poll.Until(() => Terminal.QueuedInput(peer) > 0, TimeSpan.FromSeconds(10), "the line discipline to take the input in");
            TerminalInput.Flush(peer);
            Descriptors.WriteAll(master, "after\n"u8);
            Assert.Equal("after\n", System.Text.Encoding.ASCII.GetString(TerminalInput.Drain(peer)));
        }
    }

    [Fact]
    public void Bytes_put_back_are_read_by_the_next_reader_unechoed_and_the_modes_are_as_before()
    {
        var (master, slave) = Terminal.OpenPseudoTerminal(null, null);
        using (master)
        using (slave)
        using (var peer = TerminalInput.OpenPeer(master))
        {
            // Canonical with echo, as a job leaves home's terminal; no EXTPROC, which the relay's slaves have.
            var modes = Terminal.WithExternalProcessing(Terminal.ReadModes(slave)!, on: false);
            Terminal.WriteModes(slave, modes);
            Assert.Equal(5, TerminalInput.PutBack(slave, "ls -l\n"u8[..5]));
            Assert.Equal(1, TerminalInput.PutBack(slave, "\n"u8));
            Assert.Equal("ls -l\n", System.Text.Encoding.ASCII.GetString(TerminalInput.Drain(peer)));
            Assert.Equal(modes, Terminal.ReadModes(slave));
            // Nothing echoed: the master (packet mode) has no data to read.
            Assert.False(Echoed(master));
        }
    }

    [Fact]
    public void A_terminal_without_noflsh_flushes_on_signals()
    {
        Assert.True(TerminalInput.FlushesOnSignal(TerminalModes(echo: true)));
        Assert.False(TerminalInput.FlushesOnSignal(null));
        var noflsh = (byte[])Raw.Clone();
        noflsh[12] |= 0x80;
        Assert.False(TerminalInput.FlushesOnSignal(noflsh));
    }

    /// <summary>Whether the master (packet mode) has output to read: a status byte alone (the modes changed) is none.</summary>
    private static bool Echoed(SafeFileHandle master)
    {
        var buffer = new byte[256];
        while (Readiness.WaitReadable(master, TimeSpan.FromMilliseconds(200)))
        {
            var n = Descriptors.Read(master, buffer);
            if (n > 1 && buffer[0] == 0) return true;
        }
        return false;
    }

    private static byte[] TerminalModes(bool echo)
    {
        var modes = new byte[Terminal.TermiosSize];
        modes[12] = (byte)(0x2 | (echo ? 0x8 : 0)); // ICANON, ECHO
        return modes;
    }
}
