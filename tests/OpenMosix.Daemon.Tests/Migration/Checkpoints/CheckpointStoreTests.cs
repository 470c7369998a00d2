using OpenMosix.Daemon.Migration.Checkpoints;
using OpenMosix.Daemon.Migration.Protocol;
using OpenMosix.TestSupport;
using static OpenMosix.Daemon.Tests.Migration.Checkpoints.CheckpointImages;

namespace OpenMosix.Daemon.Tests.Migration.Checkpoints;

public sealed class CheckpointStoreTests : IDisposable
{
    private const int Pid = 4242;
    private const ulong P = 4096;
    private readonly TempDirectory _temp = new();
    private readonly CheckpointStore _store;

    public CheckpointStoreTests()
    {
        _store = new CheckpointStore(Path.Combine(_temp.Path, "checkpoints"));
        _store.Prepare();
    }

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_whole_checkpoint_then_an_incremental_one_leave_one_image_with_the_latest_pages_and_counts()
    {
        Arrive(whole: true, Round((Heap, 1), (Stack, 1)), Final([HeapRange, StackRange], (Heap, 2)));
        _store.Merge(Record(1, output: 10, input: 3), whole: true);
        _store.Commit(Pid);
        Arrive(whole: false, null, Final([HeapRange, StackRange], (Stack, 5), (Heap + P, 6)));
        _store.Merge(Record(2, output: 25, input: 7), whole: false);
        _store.Commit(Pid);

        using var stored = _store.Open(Pid)!;
        Assert.Equal(2, stored.Record.Sequence);
        Assert.Equal([new OutputCount(1, 25)], stored.Record.Outputs);
        Assert.Equal(7, stored.Record.InputRead);
        Assert.Equal([(Heap, 2), (Heap + P, 6), (Stack, 5)], ReadRound(stored.Round).Pages);
        Assert.Equal(Final([HeapRange, StackRange], (Stack, 5), (Heap + P, 6)), ReadAll(stored.Final));
        Assert.Equal([$"{Pid}.ckpt"], Directory.GetFiles(_store.Directory).Select(Path.GetFileName));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_store.Committed(Pid)));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_store.Directory));
    }

    [Fact]
    public void A_merged_checkpoint_is_not_used_for_a_restart_until_it_is_committed()
    {
        Arrive(whole: true, Round((Heap, 1)), Final([HeapRange], (Heap, 2)));
        _store.Merge(Record(1, output: 10, input: 0), whole: true);

        Assert.Null(_store.Open(Pid));
        _store.Commit(Pid);
        Assert.Equal(1, _store.Open(Pid)!.Record.Sequence);
    }

    [Fact]
    public void A_checkpoint_cut_while_it_is_written_leaves_the_good_one_in_place()
    {
        Arrive(whole: true, Round((Heap, 1)), Final([HeapRange], (Heap, 2)));
        _store.Merge(Record(1, output: 10, input: 0), whole: true);
        _store.Commit(Pid);
        var good = File.ReadAllBytes(_store.Committed(Pid));

        Assert.Throws<IOException>(() => CheckpointFile.WriteAtomically(_store.Committed(Pid), Record(2, 20, 0),
            round => round.Write(new byte[1000]), _ => throw new IOException("No space left on device")));

        Assert.Equal(good, File.ReadAllBytes(_store.Committed(Pid)));
        Assert.Equal([$"{Pid}.ckpt"], Directory.GetFiles(_store.Directory).Select(Path.GetFileName));
    }

    [Fact]
    public void An_incremental_checkpoint_without_an_earlier_one_is_refused_and_its_images_are_removed()
    {
        Arrive(whole: false, null, Final([HeapRange], (Heap, 2)));

        var error = Assert.Throws<CorruptCheckpointException>(() => _store.Merge(Record(1, 0, 0), whole: false));
        Assert.Contains("no earlier checkpoint", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_store.Directory));
    }

    [Theory]
    [InlineData(-1, "does not end like a checkpoint")]
    [InlineData(-25, "damaged trailer")]
    [InlineData(0, "do not fill it")]
    public void A_damaged_or_cut_checkpoint_file_is_refused_with_one_line(int where, string expected)
    {
        Arrive(whole: true, Round((Heap, 1)), Final([HeapRange], (Heap, 2)));
        _store.Merge(Record(1, output: 10, input: 0), whole: true);
        _store.Commit(Pid);
        var path = _store.Committed(Pid);
        var bytes = File.ReadAllBytes(path).ToList();
        if (where < 0) bytes[bytes.Count + where] ^= 0x40;
        else bytes.RemoveAt(0);
        File.WriteAllBytes(path, [.. bytes]);

        var error = Assert.Throws<CorruptCheckpointException>(() => _store.Open(Pid));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Forgetting_a_process_removes_every_file_of_it()
    {
        Arrive(whole: true, Round((Heap, 1)), Final([HeapRange], (Heap, 2)));
        _store.Merge(Record(1, output: 10, input: 0), whole: true);
        _store.Commit(Pid);
        Arrive(whole: true, Round((Heap, 1)), Final([HeapRange], (Heap, 2)));

        _store.Forget(Pid);

        Assert.Empty(Directory.GetFiles(_store.Directory));
    }

    private void Arrive(bool whole, byte[]? round, byte[] final)
    {
        if (whole)
        {
            using var file = _store.CreateIncoming(Pid, "round");
            file.Write(round);
        }
        using var finalFile = _store.CreateIncoming(Pid, "final");
        finalFile.Write(final);
    }

    private static CheckpointRecord Record(long sequence, long output, long input) => new(Pid, sequence, [new OutputCount(1, output)], input);

    private static byte[] ReadAll(Stream stream)
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
