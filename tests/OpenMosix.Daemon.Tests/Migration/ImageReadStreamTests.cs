using OpenMosix.Cluster.Transport;
using OpenMosix.Daemon.Migration;

namespace OpenMosix.Daemon.Tests.Migration;

public sealed class ImageReadStreamTests
{
    [Fact]
    public async Task Relay_frames_between_an_images_frames_go_to_the_relay_and_the_image_reads_whole()
    {
        var (home, guest) = await LinkPairs.ConnectAsync();
        await using var _ = home;
        await using var __ = guest;
        var cancel = TestContext.Current.CancellationToken;
        // A copy coming home runs on during its pre-copy rounds: its output and its calls on forwarded descriptors
        // travel between the round's frames.
        await guest.SendAsync(FrameType.Image, new byte[] { 1, 2, 3 }, cancel);
        await guest.SendAsync(FrameType.Stdio, new byte[] { 1, (byte)'x' }, cancel);
        await guest.SendAsync(FrameType.Forward, new byte[] { 9, 9 }, cancel);
        await guest.SendAsync(FrameType.Image, new byte[] { 4, 5 }, cancel);
        await guest.SendAsync(FrameType.ImageEnd, ReadOnlyMemory<byte>.Empty, cancel);

        var relayed = new List<FrameType>();
        using var image = new MemoryStream();
        await Task.Run(() => new LinkImageReadStream(home, frame => relayed.Add(frame.Type)).CopyTo(image), cancel);

        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, image.ToArray());
        Assert.Equal([FrameType.Stdio, FrameType.Forward], relayed);
    }
}
