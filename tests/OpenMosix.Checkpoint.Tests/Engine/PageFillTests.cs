using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.TestSupport;
using static OpenMosix.Checkpoint.Tests.Engine.EngineFixtures;

namespace OpenMosix.Checkpoint.Tests.Engine;

/// <summary>
/// Restore fills anonymous memory with UFFDIO_COPY through a userfaultfd of the new process, and falls back to
/// process_vm_writev where userfaultfd is refused: both must leave the same memory, and the first no trace.
/// </summary>
public sealed class PageFillTests
{
    [Fact]
    public void Restored_process_holds_no_userfaultfd_and_no_range_still_registered()
    {
        RestoreBigMemory(userFaults: true, (pid, _) =>
        {
            var links = Directory.GetFiles($"/proc/{pid}/fd").Select(fd => new FileInfo(fd).LinkTarget ?? "").ToList();
            Assert.DoesNotContain(links, l => l.Contains("userfaultfd", StringComparison.Ordinal));
            // VmFlags "um", "uw", "ui": a range registered with a userfaultfd for missing, write-protect or minor faults.
            var flags = File.ReadLines($"/proc/{pid}/smaps").Where(l => l.StartsWith("VmFlags:", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(flags);
            Assert.DoesNotContain(flags, l => l.Split(' ').Any(f => f is "um" or "uw" or "ui"));
        });
    }

    [Fact]
    public void Memory_written_with_process_vm_writev_when_userfaultfd_is_off_comes_back_identical() =>
        RestoreBigMemory(userFaults: false, (_, _) => { });

    [Fact]
    public void Anonymous_memory_is_filled_in_place_without_a_page_fault_per_page()
    {
        RestoreBigMemory(userFaults: true, (pid, megabytes) =>
        {
            var rss = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("RssAnon:", StringComparison.Ordinal));
            var kib = long.Parse(rss.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(kib >= megabytes * 1024L, $"only {kib} KiB of anonymous memory resident: {rss}");
            // Prefaulting (the process_vm_writev path) counts one minor fault per page in the new process; UFFDIO_COPY none.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var minorFaults = long.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[7], System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(minorFaults < megabytes * 256L / 10, $"{minorFaults} minor faults for {megabytes * 256} pages");
        });
    }

    /// <summary>
    /// eng_bigmem fills a heap and blocks reading stdin; it is checkpointed, killed and restored, inspected while it
    /// still waits, then given a line: it prints the checksum of its memory again, which must be the first one.
    /// </summary>
    private static void RestoreBigMemory(bool userFaults, Action<int, int> inspect)
    {
        const int megabytes = 24;
        using var dir = new TempDirectory();
        var (read, write) = Pipe();
        using var child = ChildProcess.StartToFile(TestPrograms.Locate("eng_bigmem"), [megabytes.ToString(System.Globalization.CultureInfo.InvariantCulture)], dir.File("out"), read);
        Poll.UntilLines(dir.File("out"), 1, Patience);
        UntilBlockedIn(child.Pid, 0);
        var ready = File.ReadAllText(dir.File("out")).Trim().Split(' ')[1];

        using var engine = new CheckpointEngine { FillPagesWithUserFaults = userFaults };
        var image = new InMemoryImage();
        engine.Checkpoint(child.Pid, image, new DumpOptions(AfterDump.Kill));
        child.WaitForExit(Patience);

        var restored = engine.Restore(image, new RestoreOptions(new Dictionary<int, int> { [0] = (int)read.DangerousGetHandle() }, TryOriginalPid: false));
        read.Dispose();
        try
        {
            UntilBlockedIn(restored.Pid, 0);
            inspect(restored.Pid, megabytes);
        }
        finally
        {
            WriteAll(write, "hello\n");
            write.Dispose();
        }
        Assert.Equal(new ExitStatus(0, 0), engine.WaitForExitWithin(restored, Patience));
        Assert.Equal($"ready {ready}\nafter {ready} hello\n", File.ReadAllText(dir.File("out")));
    }
}
