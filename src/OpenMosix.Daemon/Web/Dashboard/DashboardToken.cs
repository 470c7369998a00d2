using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace OpenMosix.Daemon.Web.Dashboard;

/// <summary>
/// root's key to the dashboard's moves: 32 random bytes, base64url, made anew at every start of omd and written to a
/// file only root can read (web.token in the run directory, mode 0600), where `om dashboard` reads it. The page sends
/// it as `Authorization: Bearer`; it is compared in constant time. Disposing removes the file.
/// </summary>
public sealed class DashboardToken : IDisposable
{
    public const string FileName = "web.token";
    private readonly byte[] _digest;

    private DashboardToken(string value, string? path)
    {
        Value = value;
        Path = path;
        _digest = SHA256.HashData(Encoding.ASCII.GetBytes(value));
    }

    public string Value { get; }

    /// <summary>The file the token was written to, or null for one kept in memory only.</summary>
    public string? Path { get; }

    /// <summary>A new token, in memory only.</summary>
    public static DashboardToken Random() => new(Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32)), null);

    /// <summary>A new token, written to <paramref name="directory"/>/web.token (0600) in place of any earlier one.</summary>
    public static DashboardToken Create(string directory)
    {
        var token = Random();
        var path = System.IO.Path.Join(directory, FileName);
        // Written beside the file and renamed over it: the mode is 0600 from the first byte, never widened by an old file.
        var temporary = $"{path}.{Environment.ProcessId}.new";
        var options = new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        using (var stream = new FileStream(temporary, options))
            stream.Write(Encoding.ASCII.GetBytes(token.Value + "\n"));
        File.Move(temporary, path, overwrite: true);
        return new DashboardToken(token.Value, path);
    }

    /// <summary>Whether an Authorization header carries this token (as "Bearer TOKEN").</summary>
    public bool Accepts(string? authorization)
    {
        const string scheme = "Bearer ";
        if (authorization is null || !authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) return false;
        // Digests of equal length compared in constant time: neither the token nor its length leaks through timing.
        var offered = SHA256.HashData(Encoding.UTF8.GetBytes(authorization[scheme.Length..].Trim()));
        return CryptographicOperations.FixedTimeEquals(offered, _digest);
    }

    public void Dispose()
    {
        if (Path is null) return;
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
            // The run directory went first (omd stopping); nothing is left to protect.
        }
    }
}
