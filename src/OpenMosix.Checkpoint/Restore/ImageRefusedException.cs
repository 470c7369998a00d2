namespace OpenMosix.Checkpoint.Restore;

/// <summary>The restoring side's policy refuses this image (<see cref="RestoreOptions.Refusal"/>); nothing was built of it.</summary>
public sealed class ImageRefusedException(string message) : Exception(message);
