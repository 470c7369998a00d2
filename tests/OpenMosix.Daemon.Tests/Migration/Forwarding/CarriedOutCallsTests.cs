using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging.Abstractions;
using OpenMosix.Cluster.Transport;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Daemon.Migration.Forwarding;
using OpenMosix.Linux.Seccomp;

namespace OpenMosix.Daemon.Tests.Migration.Forwarding;

/// <summary>
/// A forwarded call that home carried out but whose result could not be delivered (a pre-copy's stop or a signal
/// interrupted it) is recorded as returned when the copy is frozen in it: made again at home, on the real descriptor,
/// a write was written twice (ForwardingLabTests' trip home). The "copy" here is this test process: its buffers are
/// read and written through process_vm_readv/writev as a copy's are.
/// </summary>
public sealed class CarriedOutCallsTests : IAsyncLifetime
{
    private const int Tid = 4242, OtherTid = 4243;
    private NodeLink? _home, _guest;
    private GuestForwarder? _forwarder;
    private readonly List<GCHandle> _pinned = [];

    public async ValueTask InitializeAsync()
    {
        var (home, guest) = await LinkPairs.ConnectAsync();
        (_home, _guest) = (home, guest);
        var listener = File.OpenHandle("/dev/null");
        _forwarder = new GuestForwarder(Environment.ProcessId, listener, [7, 8], new Dictionary<int, ForwardMirrorEnds>(), 1000, 1064, guest, NullLogger.Instance);
    }

    public async ValueTask DisposeAsync()
    {
        _forwarder?.Dispose();
        foreach (var handle in _pinned) handle.Free();
        if (_guest is not null) await _guest.DisposeAsync();
        if (_home is not null) await _home.DisposeAsync();
    }

    private GuestForwarder Forwarder => _forwarder!;

    private ulong Pinned(byte[] buffer)
    {
        var handle = GCHandle.Alloc(buffer, GCHandleType.Pinned);
        _pinned.Add(handle);
        return (ulong)handle.AddrOfPinnedObject();
    }

    private static InterruptedCall Call(int tid, int number, params ulong[] arguments) =>
        new(tid, number, [.. arguments, .. new ulong[6 - arguments.Length]]);

    [Fact]
    public void A_write_home_carried_out_returns_what_home_wrote_and_is_still_known_for_a_restart_here()
    {
        var line = "msg 7\n"u8.ToArray();
        Forwarder.KeepUnreported(8, line);
        var at = Pinned(line);

        var results = Forwarder.ResultsOf([Call(Tid, SyscallNr.Write, 8, at, (ulong)line.Length)]);

        Assert.Equal(line.Length, Assert.Single(results, r => r.Key == Tid).Value);
        // Asked again (the trip failed, the copy restarts the call here): the same answer.
        Assert.Equal(line.Length, Forwarder.ResultsOf([Call(Tid, SyscallNr.Sendto, 8, at, (ulong)line.Length)])[Tid]);
    }

    [Fact]
    public void A_write_of_other_bytes_or_on_another_descriptor_is_made_again()
    {
        Forwarder.KeepUnreported(8, "msg 7\n"u8.ToArray());
        var other = "msg 8\n"u8.ToArray();
        var at = Pinned(other);

        Assert.Empty(Forwarder.ResultsOf([Call(Tid, SyscallNr.Write, 8, at, (ulong)other.Length), Call(OtherTid, SyscallNr.Write, 7, at, 6)]));
    }

    [Fact]
    public void A_read_home_carried_out_gets_its_bytes_in_its_buffer_and_only_one_thread_gets_them()
    {
        Forwarder.KeepUnread(7, "echo: MSG 7\n"u8.ToArray());
        var buffer = new byte[4096];
        var other = new byte[4096];

        var results = Forwarder.ResultsOf([
            Call(Tid, SyscallNr.Recvfrom, 7, Pinned(buffer), (ulong)buffer.Length, 0, 0, 0),
            Call(OtherTid, SyscallNr.Read, 7, Pinned(other), (ulong)other.Length),
        ]);

        Assert.Equal(12, Assert.Single(results).Value);
        Assert.Equal("echo: MSG 7\n", System.Text.Encoding.ASCII.GetString(buffer, 0, 12));
        Assert.All(other, b => Assert.Equal(0, b));
    }

    [Fact]
    public void A_call_that_is_neither_a_read_nor_a_write_is_made_again()
    {
        Forwarder.KeepUnread(7, "x"u8.ToArray());
        Assert.Empty(Forwarder.ResultsOf([Call(Tid, SyscallNr.Fcntl, 7, 3)]));
    }
}
