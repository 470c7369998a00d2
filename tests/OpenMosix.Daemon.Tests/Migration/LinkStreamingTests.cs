using System.Net;
using System.Net.Sockets;
using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Engine;
using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Cluster.Transport;
using OpenMosix.Daemon.Migration;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Migration;

public sealed class LinkStreamingTests
{
    [Fact]
    public async Task A_process_streamed_over_a_node_link_is_rebuilt_as_it_arrives_and_its_output_continues_exactly()
    {
        const int Lines = 150;
        using var dir = new TempDirectory();
        var before = dir.File("before.out");
        var after = dir.File("after.out");
        // Held after its 20th line until SIGUSR1 (counter's HOLD): at load 150 its 3 s of lines could end before the
        // checkpoint began, and a dump that fails leaves the restore waiting on the link.
        using var original = ChildProcess.StartToFile(TestPrograms.Locate("counter"), [$"{Lines}", "20"], before);
        Poll.Until(() => Poll.CountLines(before) >= 20, TimeSpan.FromSeconds(30), "the counter to print 20 lines");

        var (sending, receiving) = await LinkPairs.ConnectAsync();
        using var source = new CheckpointEngine();
        using var target = new CheckpointEngine();
        using var output = File.OpenHandle(after, FileMode.Create, FileAccess.Write);
        using var devNull = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Read);

        var dump = Task.Run(() =>
        {
            using var wire = new LinkImageWriteStream(sending);
            using (var writer = new ImageWriter(wire, new ImageWriterOptions(LeaveOpen: true)))
                source.Checkpoint(original.Pid, writer, new DumpOptions(AfterDump.KeepFrozen));
            wire.Complete();
            return wire.BytesSent;
        }, TestContext.Current.CancellationToken);
        var restore = Task.Run(() =>
        {
            var wire = new LinkImageReadStream(receiving);
            using var reader = new ImageReader(wire, leaveOpen: true);
            var options = new RestoreOptions(TryOriginalPid: false)
            {
                KeepFrozen = true,
                DescriptorsFor = image => new Dictionary<int, int>
                {
                    [0] = (int)devNull.DangerousGetHandle(),
                    [1] = (int)output.DangerousGetHandle(),
                    [2] = (int)output.DangerousGetHandle(),
                },
            };
            return (target.Restore(reader, options), wire.BytesReceived);
        }, TestContext.Current.CancellationToken);

        var sent = await dump;
        var (restored, received) = await restore;
        Assert.Equal(sent, received);
        Assert.NotEqual(original.Pid, restored.Pid);

        // Only one copy may ever run: the original dies before the copy is let go.
        var printedBefore = Poll.CountLines(before);
        source.KillFrozen(original.Pid);
        Assert.False(original.Exists, "the original still exists after KillFrozen (the engine reaps its own children)");
        target.Thaw(restored.Pid);
        Signals.Kill(restored.Pid, Signals.SIGUSR1);
        Assert.Equal(new ExitStatus(0, 0), target.WaitForExit(restored));

        // Its stdout is a regular file: the copy reopened it by path at the frozen offset and wrote on where the
        // original stopped, so the file holds the uninterrupted sequence, and nothing went to the relay descriptor.
        Assert.Equal(20, printedBefore);
        Assert.Equal(Expected(Lines), File.ReadAllLines(before));
        Assert.Equal(0, new FileInfo(after).Length);
    }

    [Fact]
    public async Task A_process_writing_to_a_pipe_continues_into_the_descriptor_the_target_chooses_for_it()
    {
        const int Lines = 120;
        var (homeRead, homeWrite) = Descriptors.CreatePipe();
        var (relayRead, relayWrite) = Descriptors.CreatePipe();
        using var original = ChildProcess.Start(TestPrograms.Locate("counter"), [$"{Lines}", "20"], stdout: homeWrite);
        homeWrite.Dispose();
        var homeLines = new List<string>();
        using var homeReader = new StreamReader(new FileStream(homeRead, FileAccess.Read));
        // Held after its 20th line until SIGUSR1, so that the checkpoint finds it running however slow the machine.
        while (homeLines.Count < 20) homeLines.Add(homeReader.ReadLine()!);

        var (sending, receiving) = await LinkPairs.ConnectAsync();
        using var source = new CheckpointEngine();
        using var target = new CheckpointEngine();
        var dump = Task.Run(() =>
        {
            using var wire = new LinkImageWriteStream(sending);
            using (var writer = new ImageWriter(wire, new ImageWriterOptions(LeaveOpen: true)))
                source.Checkpoint(original.Pid, writer, new DumpOptions(AfterDump.KeepFrozen));
            wire.Complete();
        }, TestContext.Current.CancellationToken);
        var restore = Task.Run(() =>
        {
            using var reader = new ImageReader(new LinkImageReadStream(receiving), leaveOpen: true);
            return target.Restore(reader, new RestoreOptions(TryOriginalPid: false)
            {
                KeepFrozen = true,
                DescriptorsFor = image => new Dictionary<int, int> { [1] = (int)relayWrite.DangerousGetHandle() },
            });
        }, TestContext.Current.CancellationToken);
        await dump;
        var restored = await restore;
        relayWrite.Dispose();
        source.KillFrozen(original.Pid);
        // What the original wrote before the freeze is still in the home pipe: read it all.
        string? line;
        while ((line = homeReader.ReadLine()) is not null) homeLines.Add(line);
        Assert.Equal(20, homeLines.Count);
        target.Thaw(restored.Pid);
        Signals.Kill(restored.Pid, Signals.SIGUSR1);
        using var relayReader = new StreamReader(new FileStream(relayRead, FileAccess.Read));
        var relayed = relayReader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(new ExitStatus(0, 0), target.WaitForExit(restored));
        Assert.Equal(Expected(Lines), homeLines.Concat(relayed));
    }

    [Fact]
    public async Task Images_streamed_back_to_back_arrive_byte_for_byte_whatever_the_sizes_of_their_writes()
    {
        // Small writes gathered into frames, large ones sent from the writer's memory in frames of their own (a
        // section header going ahead as a short frame), and full frames whose arrays the reader hands back for the
        // next ones: three images in a row, so that reused arrays carry the later images.
        int[] sizes = [48, 1 << 20, 7, 64 * 1024, (4 << 20) + 4096, 65535, 3, (1 << 20) - 48, 300_000, 16, 2 << 20];
        var (sending, receiving) = await LinkPairs.ConnectAsync();
        using (sending)
        using (receiving)
        {
            for (var image = 0; image < 3; image++)
            {
                var random = new Random(image);
                var writes = sizes.Select(size => RandomBytes(random, size)).ToList();
                var sent = LinkImageWriteStream.SendAsync(sending, wire =>
                {
                    foreach (var write in writes) wire.Write(write);
                });
                var received = await Task.Run(() =>
                {
                    using var copy = new MemoryStream();
                    new LinkImageReadStream(receiving).CopyTo(copy, 100_000);
                    return copy.ToArray();
                }, TestContext.Current.CancellationToken);
                Assert.Equal(writes.Sum(w => (long)w.Length), await sent);
                Assert.Equal(writes.SelectMany(w => w).ToArray(), received);
            }
        }
    }

    private static byte[] RandomBytes(Random random, int size)
    {
        var bytes = new byte[size];
        random.NextBytes(bytes);
        return bytes;
    }

    private static string[] Expected(int lines)
    {
        var sum = 1469598103934665603UL;
        var result = new string[lines];
        for (var i = 0; i < lines; i++)
        {
            sum = (sum ^ (ulong)i) * 1099511628211UL;
            result[i] = $"{i} {sum:x16}";
        }
        return result;
    }
}
