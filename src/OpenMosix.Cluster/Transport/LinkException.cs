namespace OpenMosix.Cluster.Transport;

/// <summary>A node link failed or the other side broke the protocol; the message is one line.</summary>
public sealed class LinkException(string message, Exception? inner = null) : Exception(message, inner);
