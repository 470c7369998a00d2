using System.Buffers.Binary;
using System.Text.Json;
using OpenMosix.Admin;
using OpenMosix.Lab.Tests.Support;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// Issue #16's acceptance on the wire: a capture of the lab's bridge while a process moves out and back and the
/// nodes gossip holds none of the process's memory and none of the nodes' figures in clear. Both omds load the
/// libsodium om ships, so the image travels under AEGIS-128L (the fastest cipher both offer).
/// </summary>
public sealed class WireSecrecyLabTests
{
    private const int MiB = 1 << 20;

    [Fact]
    public void A_capture_of_the_bridge_during_migrations_and_gossip_shows_no_process_memory_and_no_load_figures()
    {
        using var lab = TestLab.WithDaemons(2, "--timeout", "15", "--no-balance");
        foreach (var node in new[] { 1, 2 }) lab.WaitForDaemonLog(node, "node link records offered under aegis-128l, aegis-256, aes-128-gcm");
        var totals = JsonSerializer.Deserialize(lab.Exec(1, Om.Path, "status", "--json").Succeeded().Stdout, AdminJsonContext.Default.ClusterView)!
            .Nodes.Select(n => n.TotalMemory).ToList();

        using var capture = new PacketCapture(lab.Status.Bridge);
        // memticker fills 64 MiB with a fixed xorshift sequence: the same bytes this test computes below.
        using var run = lab.Managed(1, TestPrograms.Locate("memticker"), "64", "400", "50");
        run.WaitForLines(1);
        lab.Migrate(1, run.Pid, "2");
        lab.Migrate(1, run.Pid, "home");
        Thread.Sleep(TimeSpan.FromSeconds(3)); // a few gossip rounds more, on purpose: what is captured is the point
        var packets = capture.Stop();

        var tcpBytes = packets.Where(p => p.Protocol == 6).Sum(p => (long)p.Payload.Length);
        // A busy machine may drop some frames from the capture; most of the two images must be in it.
        Assert.True(tcpBytes > 64L * MiB, $"only {tcpBytes} bytes of TCP captured: too little of the image to judge");
        var gossip = packets.Where(p => p.Protocol == 17 && p.Payload.Length > 0).ToList();
        Assert.True(gossip.Count >= 4, $"only {gossip.Count} UDP packets captured: no gossip to look at");

        var leaked = MemtickerWindows().Count(window => packets.Any(p => p.Payload.AsSpan().IndexOf(window) >= 0));
        Assert.True(leaked == 0, $"{leaked} of 16 pieces of the process's memory crossed the bridge in clear");
        foreach (var total in totals)
        {
            var figure = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(figure, (ulong)total);
            Assert.DoesNotContain(gossip, p => p.Payload.AsSpan().IndexOf(figure) >= 0);
        }
    }

    /// <summary>Sixteen 32-byte pieces of memticker's memory, one in each of sixteen different pages.</summary>
    private static List<byte[]> MemtickerWindows()
    {
        var wanted = Enumerable.Range(1, 16).Select(page => page * 512 * 97 + 100).ToHashSet();
        var windows = new List<byte[]>();
        var x = 0x9E3779B97F4A7C15UL;
        byte[]? current = null;
        var filled = 0;
        for (var i = 0; windows.Count < 16; i++)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if (wanted.Contains(i)) (current, filled) = (new byte[32], 0);
            if (current is null) continue;
            BinaryPrimitives.WriteUInt64LittleEndian(current.AsSpan(filled * 8), x);
            if (++filled == 4) (windows, current) = ([.. windows, current], null);
        }
        return windows;
    }
}
