namespace OpenMosix.Linux;

/// <summary>
/// The kernel's numbers for the socket families, levels and options omd asks about the sockets it holds for a moved
/// process (include/linux/socket.h, include/uapi/asm-generic/socket.h): one definition, where each file that needed
/// one had kept its own copy.
/// </summary>
public static class SocketConstants
{
    public const int AfUnix = 1, AfInet = 2, AfInet6 = 10;
    public const int SockStream = 1;
    public const int SolSocket = 1;
    public const int SoType = 3, SoError = 4, SoDomain = 39, SoPeekOff = 42;
}
