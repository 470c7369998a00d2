using System.Globalization;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.EngineFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

/// <summary>
/// Memory a process only read holds nothing and must not travel. Machines differ in where such pages land: the
/// kernel's shared zero page (small or huge), or, with transparent huge pages and use_zero_page off, real huge pages
/// filled with zeros. Each test looks at what this machine did (the mapping's Rss and AnonHugePages in smaps) and
/// asserts what follows from it.
/// </summary>
public sealed class ZeroPageTests
{
    private const int Megabytes = 64, WrittenMegabytes = 4;

    [Fact]
    public void Memory_that_was_only_read_is_left_out_of_the_image_and_reads_as_zeros_after_restore() =>
        CheckpointAndRestore("read", (mapping, dumped) =>
        {
            if (mapping.RssMiB < Megabytes / 2 || mapping.AnonHugeMiB >= Megabytes / 2)
            {
                // The zero page, or zero-filled huge pages: only the written megabytes (and a little of libc and the stack).
                Assert.InRange(dumped, (ulong)WrittenMegabytes << 20, (WrittenMegabytes + 2UL) << 20);
            }
            else
            {
                // Small pages allocated on a read fault cannot be told from data without reading them all: they travel.
                Assert.True(dumped >= (ulong)Megabytes << 20, $"{dumped} bytes dumped though {mapping} is resident");
            }
        });

    [Fact]
    public void Huge_pages_written_with_zeros_are_left_out_of_the_image_and_read_as_zeros_after_restore() =>
        CheckpointAndRestore("hugezero", (mapping, dumped) =>
        {
            if (mapping.AnonHugeMiB >= Megabytes / 2)
                Assert.InRange(dumped, (ulong)WrittenMegabytes << 20, (WrittenMegabytes + 2UL) << 20);
            else // no transparent huge pages on this machine: the zeros were written to small pages, which are data
                Assert.True(dumped >= (ulong)Megabytes << 20, $"{dumped} bytes dumped of {mapping}");
        });

    /// <summary>The resident size of one mapping, from /proc/PID/smaps.</summary>
    private sealed record Mapping(long RssMiB, long AnonHugeMiB)
    {
        public override string ToString() => $"a mapping with {RssMiB} MiB resident, {AnonHugeMiB} MiB in huge pages";

        public static Mapping Containing(int pid, ulong address)
        {
            long rss = -1, huge = -1;
            var inside = false;
            foreach (var line in File.ReadLines($"/proc/{pid}/smaps"))
            {
                if (char.IsAsciiHexDigit(line[0]) && line.Contains('-', StringComparison.Ordinal))
                {
                    var range = line.Split(' ')[0].Split('-');
                    inside = ulong.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture) <= address
                             && address < ulong.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                    continue;
                }
                if (!inside) continue;
                if (line.StartsWith("Rss:", StringComparison.Ordinal)) rss = KiB(line) >> 10;
                if (line.StartsWith("AnonHugePages:", StringComparison.Ordinal)) huge = KiB(line) >> 10;
            }
            Assert.True(rss >= 0 && huge >= 0, $"no mapping of process {pid} holds 0x{address:x}");
            return new Mapping(rss, huge);
        }

        private static long KiB(string line) => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    private static void CheckpointAndRestore(string mode, Action<Mapping, ulong> judge)
    {
        using var dir = new TempDirectory();
        var (read, write) = Pipe();
        string[] arguments = [Megabytes.ToString(CultureInfo.InvariantCulture), WrittenMegabytes.ToString(CultureInfo.InvariantCulture), mode];
        using var child = ChildProcess.StartToFile(TestPrograms.Locate("readmostly"), arguments, dir.File("out"), read);
        Poll.UntilLines(dir.File("out"), 1, Patience);
        UntilBlockedIn(child.Pid, 0);
        var ready = File.ReadAllText(dir.File("out")).Trim().Split(' ');
        var mapping = Mapping.Containing(child.Pid, ulong.Parse(ready[2].AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        var expected = CommandRun.Run("/bin/sh", ["-c", $"echo go | {TestPrograms.Locate("readmostly")} {string.Join(' ', arguments)}"]).Stdout;

        using var engine = new CheckpointEngine();
        var image = new InMemoryImage();
        var dumped = engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Kill));
        child.WaitForExit(Patience);
        judge(mapping, dumped.PageBytes);

        var restored = engine.Restore(image, new RestoreOptions(new Dictionary<int, int> { [0] = (int)read.DangerousGetHandle() }, TryOriginalPid: false));
        read.Dispose();
        WriteAll(write, "go\n");
        write.Dispose();
        Assert.Equal(new ExitStatus(0, 0), engine.WaitForExitWithin(restored, Patience));
        // The reference run printed its own address; the sums must agree.
        Assert.Equal(expected.Split('\n')[1], File.ReadAllText(dir.File("out")).Split('\n')[1]);
    }
}
