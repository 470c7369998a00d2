namespace OpenMosix.Cluster.Transport;

/// <summary>Takes a link's <see cref="FrameType.Pages"/> frames as they are read (<see cref="NodeLink.DivertPages"/>).</summary>
public interface IPageFrames
{
    /// <summary>One Pages frame, on the link's reading thread: hand it on, do not block.</summary>
    void Arrived(Frame frame);

    /// <summary>The link ended (closed, broken or declared dead): no more frames come. Called once.</summary>
    void LinkEnded(string reason);
}
