using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OpenMosix.Cluster.Security;

/// <summary>
/// The files of a node's TLS directory (default /etc/openmosix/tls): <c>node.key</c> and <c>node.crt</c>, this
/// node's identity; <c>ca.crt</c>, the CAs it trusts; and on the machine that signs, <c>ca.key</c>. Keys are
/// written 0600 and created exclusively (never readable by others, not even for a moment; never overwritten).
/// </summary>
public static class TlsFiles
{
    public const string DefaultDirectory = "/etc/openmosix/tls";
    public const string CaKey = "ca.key";
    public const string CaCertificate = "ca.crt";
    public const string NodeKey = "node.key";
    public const string NodeCertificate = "node.crt";

    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Public = Private | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode GroupOrOthers = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
                                              UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    public static void WriteKey(string path, AsymmetricAlgorithm key)
    {
        ArgumentNullException.ThrowIfNull(key);
        WriteNew(path, key.ExportPkcs8PrivateKeyPem(), Private);
    }

    public static void WriteCertificates(string path, IEnumerable<X509Certificate2> certificates) =>
        WriteNew(path, string.Concat(certificates.Select(c => c.ExportCertificatePem() + "\n")), Public);

    /// <summary>Refuses early when any of <paramref name="paths"/> exists, so that nothing is half written.</summary>
    public static void RequireAbsent(params string[] paths)
    {
        foreach (var path in paths)
            if (File.Exists(path)) throw new CertificateSetupException($"{path} already exists; remove it first if you really mean to replace it");
    }

    /// <summary>A private key file's text, refused when it is missing, unreadable, or open to group or others.</summary>
    public static string ReadKey(string path)
    {
        var text = ReadText(path, "key");
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException(NeedsModes);
        var mode = File.GetUnixFileMode(path);
        if ((mode & GroupOrOthers) != 0)
            throw new CertificateSetupException(string.Create(CultureInfo.InvariantCulture,
                $"{path} has mode {Convert.ToString((int)mode, 8).PadLeft(4, '0')}: group or others may read it; chmod 600 {path}"));
        return text;
    }

    /// <summary>Every certificate of a PEM file (ca.crt may hold several CAs), at least one.</summary>
    public static X509Certificate2Collection ReadCertificates(string path)
    {
        var text = ReadText(path, "certificate");
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPem(text);
        }
        catch (CryptographicException e)
        {
            throw new CertificateSetupException($"{path}: not a PEM certificate file ({e.Message.TrimEnd('.')})", e);
        }
        return certificates.Count > 0 ? certificates : throw new CertificateSetupException($"{path} holds no certificate");
    }

    public static string ReadText(string path, string what)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CertificateSetupException($"no {what} at {path}: create it with `om ca` (docs/omd.md)", e);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new CertificateSetupException($"cannot read {path}: {e.Message}", e);
        }
    }

    /// <summary>Modes are what keep keys private: there is no running without them.</summary>
    internal const string NeedsModes = "the TLS files need Unix file modes";

    private static void WriteNew(string path, string text, UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException(NeedsModes);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = mode };
        try
        {
            using var file = new StreamWriter(new FileStream(path, options));
            file.Write(text);
        }
        catch (IOException e) when (File.Exists(path))
        {
            throw new CertificateSetupException($"{path} already exists; remove it first if you really mean to replace it", e);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new CertificateSetupException($"cannot write {path}: {e.Message}", e);
        }
    }
}
