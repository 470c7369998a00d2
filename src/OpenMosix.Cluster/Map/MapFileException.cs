namespace OpenMosix.Cluster.Map;

/// <summary>A map file line that cannot be accepted; the message is one line, <c>file:line: reason</c>.</summary>
public sealed class MapFileException(string file, int line, string reason)
    : Exception($"{file}:{line}: {reason}")
{
    public string File { get; } = file;
    public int Line { get; } = line;
    public string Reason { get; } = reason;
}
