using System.Buffers.Binary;
using System.Net.Sockets;

namespace OpenMosix.Linux;

/// <summary>Who is at the other end of a unix socket, as the kernel vouches for it (SO_PEERCRED).</summary>
public readonly record struct PeerCredentials(int Pid, uint Uid, uint Gid)
{
    private const int SOL_SOCKET = 1, SO_PEERCRED = 17;

    public bool IsRoot => Uid == 0;

    public static PeerCredentials Of(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        Span<byte> ucred = stackalloc byte[12];
        var length = socket.GetRawSocketOption(SOL_SOCKET, SO_PEERCRED, ucred);
        if (length != ucred.Length)
            throw new SyscallException("getsockopt(SO_PEERCRED)", Errno.EINVAL);
        return new PeerCredentials(
            BinaryPrimitives.ReadInt32LittleEndian(ucred),
            BinaryPrimitives.ReadUInt32LittleEndian(ucred[4..]),
            BinaryPrimitives.ReadUInt32LittleEndian(ucred[8..]));
    }
}
