using System.Text;
using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Image;

namespace OpenMosix.Checkpoint.Tests.Format;

/// <summary>The tree section of a process tree's directory: read back as written, and refused in one line when it
/// describes something the restorer could not follow.</summary>
public sealed class TreeSectionTests
{
    private static TreeImage Tree() => new()
    {
        RootPid = 100,
        Processes =
        [
            new TreeProcess { Pid = 100, ProcessGroup = 100, Session = 90, ExitSignal = 17 },
            new TreeProcess { Pid = 101, ParentPid = 100, ProcessGroup = 100, Session = 90, ExitSignal = 17 },
            new TreeProcess { Pid = 102, ParentPid = 100, ProcessGroup = 102, Session = 90, ExitSignal = 17 },
            new TreeProcess { Pid = 103, ParentPid = 101, ProcessGroup = 100, Session = 90, ExitSignal = 17, ExitStatus = 3 << 8 },
        ],
        Pipes =
        [
            new TreePipe
            {
                Name = "pipe:[1]",
                Contents = Encoding.ASCII.GetBytes("in flight"),
                Ends = [new TreeDescriptor { Pid = 101, Fd = 1, Write = true }, new TreeDescriptor { Pid = 102, Fd = 0 }],
            },
        ],
        Files = [new TreeSharedFile { Path = "/tmp/log", Flags = 1, Offset = 42, Ends = [new TreeDescriptor { Pid = 100, Fd = 1 }, new TreeDescriptor { Pid = 101, Fd = 2 }] }],
    };

    private static byte[] Write(TreeImage tree)
    {
        using var stream = new MemoryStream();
        using (var writer = new ImageWriter(stream, new ImageWriterOptions(LeaveOpen: true)))
        {
            writer.WriteTree(tree);
            writer.Complete();
        }
        return stream.ToArray();
    }

    private static TreeImage Read(byte[] bytes)
    {
        using var reader = new ImageReader(new MemoryStream(bytes));
        return reader.ReadTree();
    }

    [Fact]
    public void A_tree_section_reads_back_as_written()
    {
        var read = Read(Write(Tree()));
        Assert.Equal([100, 101, 102, 103], read.Processes.Select(p => p.Pid));
        Assert.Equal(3 << 8, read.Processes[3].ExitStatus);
        Assert.Equal("in flight", Encoding.ASCII.GetString(read.Pipes[0].Contents));
        Assert.Equal(42, read.Files[0].Offset);
    }

    public static TheoryData<string, string> Damaged => new()
    {
        { "root not first", "first tree process" },
        { "parent after child", "not listed before it" },
        { "pid twice", "listed twice" },
        { "pipe end of an exited process", "not a running process" },
        { "descriptor twice", "listed twice" },
        { "pipe without reader", "no read end" },
        { "relative shared file", "not an absolute path" },
        { "exit signal out of range", "exit signal" },
        { "negative session", "session -1" },
    };

    [Theory]
    [MemberData(nameof(Damaged))]
    public void A_tree_section_the_restorer_could_not_follow_is_refused_in_one_line(string damage, string expected)
    {
        var tree = Damage(Tree(), damage);
        var e = Assert.Throws<CorruptImageException>(() => Read(Write(tree)));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.StartsWith("corrupt tree section: ", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_tree_whose_session_and_group_leaders_live_outside_this_pid_namespace_reads_back()
    {
        // /proc gives 0 for a leader in an ancestor PID namespace: every process of a tree started in a container
        // whose runtime made the session shows session 0.
        var tree = Tree();
        for (var i = 0; i < tree.Processes.Count; i++)
            tree.Processes[i] = tree.Processes[i] with { Session = 0, ProcessGroup = tree.Processes[i].ProcessGroup == 100 ? 0 : tree.Processes[i].ProcessGroup };
        var read = Read(Write(tree));
        Assert.All(read.Processes, p => Assert.Equal(0, p.Session));
        Assert.Equal([0, 0, 102, 0], read.Processes.Select(p => p.ProcessGroup));
    }

    [Fact]
    public void A_tree_file_is_not_a_process_image_nor_a_process_image_a_tree()
    {
        using (var reader = new ImageReader(new MemoryStream(Write(Tree()))))
            Assert.Contains("expected the metadata section first", Assert.Throws<CorruptImageException>(() => reader.ReadMetadata()).Message, StringComparison.Ordinal);
        using (var reader = new ImageReader(new MemoryStream(SampleImages.Write(SampleImages.Metadata(), SampleImages.Runs()))))
            Assert.Contains("expected the tree section first", Assert.Throws<CorruptImageException>(() => reader.ReadTree()).Message, StringComparison.Ordinal);
    }

    private static TreeImage Damage(TreeImage tree, string damage)
    {
        var p = tree.Processes;
        switch (damage)
        {
            case "root not first": (p[0], p[1]) = (p[1], p[0]); break;
            case "parent after child": (p[1], p[3]) = (p[3], p[1]); break;
            case "pid twice": p[2] = p[2] with { Pid = 101 }; break;
            case "pipe end of an exited process": tree.Pipes[0].Ends[1] = tree.Pipes[0].Ends[1] with { Pid = 103 }; break;
            case "descriptor twice": tree.Files[0].Ends[1] = tree.Files[0].Ends[1] with { Fd = 1 }; break;
            case "pipe without reader": tree.Pipes[0].Ends.RemoveAt(1); break;
            case "relative shared file": tree.Files[0] = tree.Files[0] with { Path = "log" }; break;
            case "exit signal out of range": p[1] = p[1] with { ExitSignal = 65 }; break;
            case "negative session": p[2] = p[2] with { Session = -1 }; break;
        }
        return tree;
    }
}
