using System.Globalization;

namespace OpenMosix.Linux;

/// <summary>User names and ids from /etc/passwd (local accounts: what a cluster of like-configured nodes shares).</summary>
public static class UserDatabase
{
    public static uint? UidOf(string name) =>
        Entries().Where(e => e.Name == name).Select(e => (uint?)e.Uid).FirstOrDefault();

    public static string NameOf(uint uid) =>
        Entries().Where(e => e.Uid == uid).Select(e => e.Name).FirstOrDefault() ?? uid.ToString(CultureInfo.InvariantCulture);

    private static IEnumerable<(string Name, uint Uid)> Entries()
    {
        if (!File.Exists("/etc/passwd")) yield break;
        foreach (var line in File.ReadLines("/etc/passwd"))
        {
            var fields = line.Split(':');
            if (fields.Length > 2 && uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var uid))
                yield return (fields[0], uid);
        }
    }
}
