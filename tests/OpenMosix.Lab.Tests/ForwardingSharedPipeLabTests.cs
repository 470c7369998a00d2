using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>
/// Issue #15: a FIFO at home is read ahead for a moved reader, checked (docs/forwarding.md#pipes): another reader that
/// opens it at home after the move competes for the same bytes, and between them every byte written is read once, by
/// one of them, in the order written.
/// </summary>
[Collection(MigrationLab.ForwardingCollection)]
public sealed class ForwardingSharedPipeLabTests(MigrationLab fixture)
{
    private const int Tokens = 2 << 20; // 16 MiB of 8-byte numbers
    private readonly TestLab _lab = fixture.Lab;

    /// <summary>Writes the numbers 0..argv[3]-1 (8 bytes each, in writes of 4096 bytes, which a pipe keeps whole) to the
    /// FIFO argv[1]: the first 8192 of them, then the rest once the file argv[2] exists.</summary>
    private const string Writer = """
        import array, os, sys, time
        fifo, go, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
        f = os.open(fifo, os.O_WRONLY)
        print("open", flush=True)
        def write(start, end):
            for at in range(start, end, 512):
                os.write(f, array.array("Q", range(at, min(end, at + 512))).tobytes())
        write(0, 8192)
        deadline = time.monotonic() + 300
        while not os.path.exists(go) and time.monotonic() < deadline:
            time.sleep(0.02)
        write(8192, total)
        os.close(f)
        print("wrote", total, flush=True)
        """;

    /// <summary>Reads the FIFO argv[1] in reads of many sizes (multiples of 8) to its end: with argv[2] "first", 64 KiB,
    /// then the rest once SIGUSR1 comes. Prints how many numbers it got, their sum and sum of squares, and whether they
    /// rose.</summary>
    private const string Reader = """
        import array, os, signal, sys
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
        f = os.open(sys.argv[1], os.O_RDONLY)
        print("open", flush=True)
        sizes, i, pending, got = [8, 4096, 65536, 1 << 20, 8 * 97, 24, 1 << 17], 0, b"", array.array("Q")
        def take(until):
            global i, pending
            while until is None or len(got) * 8 + len(pending) < until:
                b = os.read(f, sizes[i % len(sizes)]); i += 1
                if not b: return
                pending += b
                whole = len(pending) - len(pending) % 8
                got.frombytes(pending[:whole]); pending = pending[whole:]
        if sys.argv[2] == "first":
            take(65536)
            print("ready", flush=True)
            signal.sigwait({signal.SIGUSR1})
        take(None)
        rose = all(got[k] < got[k + 1] for k in range(len(got) - 1))
        print("got", len(got), sum(got), sum(x * x for x in got), rose, len(pending), flush=True)
        """;

    [Fact]
    public void A_moved_reader_of_a_fifo_and_a_reader_that_opens_it_at_home_after_the_move_read_every_byte_once_in_order()
    {
        var fifo = Path.Combine(_lab.Layout.NodeDirectory(1), $"shared-{Guid.NewGuid():N}.fifo");
        var go = $"{fifo}.go";
        Assert.Equal(0, CommandRun.Run("mkfifo", [fifo]).ExitCode);
        using var writer = _lab.InNode(1, ["python3", "-c", Writer, fifo, go, $"{Tokens}"]);
        using var moved = _lab.Managed(1, "python3", "-c", Reader, fifo, "first");
        moved.WaitForLines(2);
        Assert.Equal("ready", moved.Lines()[1]);
        _lab.Migrate(1, moved.Pid, "2");
        Assert.Equal("remote", _lab.Processes(1).Processes.Single(p => p.Pid == moved.Pid).State);
        // A second reader opens the FIFO at home now, while the moved one's node reads it ahead.
        using var home = _lab.InNode(1, ["python3", "-c", Reader, fifo, "later"]);
        home.WaitForLines(1);
        File.WriteAllText(go, "");
        Signals.Kill(moved.Pid, Signals.SIGUSR1);
        Assert.Equal(new ChildExit(0, 0), writer.Process.WaitForExit(TimeSpan.FromSeconds(240)));
        Assert.Equal(new ChildExit(0, 0), moved.Process.WaitForExit(TimeSpan.FromSeconds(120)));
        Assert.Equal(new ChildExit(0, 0), home.Process.WaitForExit(TimeSpan.FromSeconds(120)));
        var a = Got(moved.Lines()[^1]);
        var b = Got(home.Lines()[^1]);
        // Each reader's numbers rose (none twice, in the order written) and whole; together they are 0..Tokens-1.
        Assert.True(a.Rose && b.Rose, $"moved: {moved.Lines()[^1]}; home: {home.Lines()[^1]}");
        Assert.Equal((0, 0), (a.Pending, b.Pending));
        long n = Tokens;
        Assert.Equal(n, a.Count + b.Count);
        Assert.Equal((System.Numerics.BigInteger)n * (n - 1) / 2, a.Sum + b.Sum);
        Assert.Equal((System.Numerics.BigInteger)(n - 1) * n * (2 * n - 1) / 6, a.Squares + b.Squares);
        Console.WriteLine($"moved reader: {a.Count} numbers, home reader: {b.Count}");
    }

    private static (long Count, System.Numerics.BigInteger Sum, System.Numerics.BigInteger Squares, bool Rose, int Pending) Got(string line)
    {
        var f = line.Split(' ');
        Assert.Equal("got", f[0]);
        return (long.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture), System.Numerics.BigInteger.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture),
            System.Numerics.BigInteger.Parse(f[3], System.Globalization.CultureInfo.InvariantCulture), f[4] == "True",
            int.Parse(f[5], System.Globalization.CultureInfo.InvariantCulture));
    }
}
