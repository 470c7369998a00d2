namespace OpenMosix.Linux.Tests;

public sealed class PipeSizeTests
{
    [Fact]
    public void A_default_pipe_grows_to_the_size_asked()
    {
        var (read, write) = Descriptors.CreatePipe();
        using (read)
        using (write)
        {
            Assert.Equal(64 * 1024, Descriptors.TryGrowPipe(write, 0));
            Assert.Equal(256 * 1024, Descriptors.TryGrowPipe(write, 256 * 1024));
            // Either end names the same pipe.
            Assert.Equal(256 * 1024, Descriptors.TryGrowPipe(read, 4096));
        }
    }

    [Fact]
    public void A_pipe_larger_than_asked_is_not_shrunk()
    {
        var (read, write) = Descriptors.CreatePipe();
        using (read)
        using (write)
        {
            Assert.Equal(1 << 20, Descriptors.TryResizePipe(write, 1 << 20));
            Assert.Equal(1 << 20, Descriptors.TryGrowPipe(write, 256 * 1024));
        }
    }

    [Fact]
    public void A_descriptor_that_is_not_a_pipe_is_left_alone()
    {
        using var file = File.OpenHandle(Path.GetTempFileName(), FileMode.Open, FileAccess.ReadWrite, FileShare.None, FileOptions.DeleteOnClose);
        Assert.Equal(0, Descriptors.TryGrowPipe(file, 1 << 20));
    }
}
