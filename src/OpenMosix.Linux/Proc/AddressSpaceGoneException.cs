namespace OpenMosix.Linux.Proc;

/// <summary>
/// A /proc/PID/pagemap handle outlived the address space it was opened on: the process executed a new program (or
/// exited) since. The kernel says so with ESRCH from PAGEMAP_SCAN and an empty read. Nothing read through the handle
/// describes the process any more; open a new one.
/// </summary>
public sealed class AddressSpaceGoneException(string message) : IOException(message);
