namespace OpenMosix.Checkpoint.Restore;

/// <summary>The image is sound but cannot be restored here (different kernel, changed file, no room, ...).</summary>
public sealed class RestoreException(string message) : Exception(message);
