using System.Buffers.Binary;
using System.Globalization;
using Microsoft.Win32.SafeHandles;
using OpenMosix.Linux.Proc;
using OpenMosix.Linux.Seccomp;
using static OpenMosix.Linux.SocketConstants;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>
/// Home's side of the sockets a moved process makes while away (forwarding.sockets_created_away = "home"): the deputy
/// makes each itself (injected, <see cref="IDeputyHost.CallInDeputy"/>), so the socket is in home's network namespace
/// and the kernel checks it with the process's own credentials (a raw socket needs its CAP_NET_RAW) and charges it to
/// the process; omd takes a duplicate (pidfd_getfd) and serves it from then on as a forwarded descriptor under the
/// number the copy gave it, as a file the deputy opened for it is, and the deputy keeps it under that number, so the
/// process has it when it comes home. Its later calls are carried out by omd,
/// whose credentials are root's: <see cref="Refusal"/> keeps to those a call needs the process's own for.
/// </summary>
internal sealed class HomeSocketCalls(int pid, IDeputyHost deputy, Func<int, SafeFileHandle, int, bool> adopt, Func<ForwardReply, Task> send,
    ILogger logger, CancellationToken stop)
{
    private const long SocketCall = 41, SockCloexec = 0x80000;
    private const int CapNetBindService = 10, CapNetAdmin = 12, CapNetRaw = 13;

    /// <summary>Takes a socket call (checked already) and answers it when it is done.</summary>
    public void Take(ForwardRequest call) => DeputyCalls.Answer(call, pid, Make, send, logger, stop);

    private ForwardReply Make(ForwardRequest call)
    {
        if (Array.IndexOf(ForwardingFilter.HomeSocketFamilies, (int)call.A0) < 0)
        {
            logger.LogWarning("Process {Pid}: asked for a socket of family {Family} at home (refused: EAFNOSUPPORT)", pid, call.A0);
            return new(call.Id, -(long)Errno.EAFNOSUPPORT);
        }
        var r = deputy.CallInDeputy(pid, SocketCall, [], _ => [call.A0, call.A1 | SockCloexec, call.A2]);
        return r < 0 ? new(call.Id, r) : DeputyCalls.Adopt(call, pid, deputy, (int)r, call.Fd, adopt);
    }

    /// <summary>
    /// Why omd must not carry out <paramref name="call"/> on the process's behalf, as the negated errno its own call
    /// would get (0: carry it out). omd is root, the process may not be: a bind to a port below home's
    /// ip_unprivileged_port_start needs the process's CAP_NET_BIND_SERVICE; the socket options that need
    /// CAP_NET_ADMIN or CAP_NET_RAW need them; a unix socket's path is checked with the caller's credentials, which
    /// omd's would bypass, so connect and bind with one are refused (EACCES, logged): such a socket belongs at home.
    /// </summary>
    public static long Refusal(int pid, ForwardRequest call, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(call);
        switch (call.Op)
        {
            case ForwardOp.Bind or ForwardOp.Connect when Family(call.Address.Span) == AfUnix && call.Address.Length > 2 && call.Address.Span[2] != 0:
                logger.LogWarning("Process {Pid}: forwarded {Op} of a unix socket to a path (refused: EACCES, omd would check the path with root's credentials)",
                    pid, call.Op);
                return -(long)Errno.EACCES;
            case ForwardOp.Bind when Family(call.Address.Span) is AfInet or AfInet6 && call.Address.Length >= 4:
                var port = BinaryPrimitives.ReadUInt16BigEndian(call.Address.Span[2..]);
                return port != 0 && port < UnprivilegedPortStart() && !Has(pid, CapNetBindService) ? -(long)Errno.EACCES : 0;
            case ForwardOp.SetOption:
                var needs = OptionCapability(call);
                return needs >= 0 && !Has(pid, needs) ? -(long)Errno.EPERM : 0;
            default:
                return 0;
        }
    }

    /// <summary>The capability a setsockopt needs (as the kernel asks it), or -1 for none.</summary>
    private static int OptionCapability(ForwardRequest call)
    {
        const int SolIp = 0, SolIpv6 = 41;
        const int SoPriority = 12, SoBindToDevice = 25, SoSndBufForce = 32, SoRcvBufForce = 33, SoMark = 36, IpTransparent = 19, Ipv6Transparent = 75;
        return (call.A0, call.A1) switch
        {
            (SolSocket, SoBindToDevice) => CapNetRaw,
            (SolSocket, SoSndBufForce or SoRcvBufForce or SoMark) => CapNetAdmin,
            (SolSocket, SoPriority) when call.Data.Length >= 4 && BinaryPrimitives.ReadInt32LittleEndian(call.Data.Span) is < 0 or > 6 => CapNetAdmin,
            (SolIp, IpTransparent) or (SolIpv6, Ipv6Transparent) => CapNetAdmin,
            _ => -1,
        };
    }

    private static int Family(ReadOnlySpan<byte> address) => address.Length >= 2 ? BinaryPrimitives.ReadUInt16LittleEndian(address) : -1;

    private static bool Has(int pid, int capability)
    {
        try
        {
            return TaskPrivileges.Read(pid, pid).HasEffective(capability);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return false; // the deputy is gone: the safe side
        }
    }

    /// <summary>Home's net.ipv4.ip_unprivileged_port_start (it rules IPv6 too), read in omd's own network namespace,
    /// which is home's; 1024 when it cannot be read.</summary>
    private static int UnprivilegedPortStart()
    {
        try
        {
            return int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_unprivileged_port_start").Trim(), CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
        {
            return 1024;
        }
    }
}
