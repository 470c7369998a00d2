using System.Text;

namespace OpenMosix.Linux;

public sealed record KernelIdentity(string SystemName, string NodeName, string Release, string Version, string Machine);

public static class SystemInfo
{
    public static unsafe KernelIdentity Uname()
    {
        const int Field = 65;
        var buffer = stackalloc byte[Field * 6];
        if (Sys.Uname(buffer) < 0) throw SyscallException.FromLastError("uname");
        string Get(int i)
        {
            var span = new ReadOnlySpan<byte>(buffer + i * Field, Field);
            var end = span.IndexOf((byte)0);
            return Encoding.UTF8.GetString(end < 0 ? span : span[..end]);
        }
        return new KernelIdentity(Get(0), Get(1), Get(2), Get(3), Get(4));
    }
}
