using System.Diagnostics;
using System.Text.Json;

namespace OpenMosix.Lab.Tests.Support;

/// <summary>
/// Looks at the machine directly, independently of the lab code: what network namespaces, links, cgroups and mounts
/// carry a lab's name.
/// </summary>
internal static class HostProbe
{
    public static IReadOnlyList<string> NetworkNamespaces(string lab) =>
        Directory.Exists("/run/netns")
            ? [.. Directory.EnumerateFileSystemEntries("/run/netns").Select(Path.GetFileName).Where(n => n!.StartsWith(lab + "-", StringComparison.Ordinal))!]
            : [];

    public static IReadOnlyList<string> Links(string lab)
    {
        using var ip = Process.Start(new ProcessStartInfo("ip", ["-j", "link", "show"]) { RedirectStandardOutput = true })!;
        var text = ip.StandardOutput.ReadToEnd();
        ip.WaitForExit();
        using var json = JsonDocument.Parse(text);
        return [.. json.RootElement.EnumerateArray().Select(l => l.GetProperty("ifname").GetString()!)
            .Where(n => n == lab + "br" || (n.StartsWith(lab + "v", StringComparison.Ordinal) && n[(lab.Length + 1)..].All(char.IsAsciiDigit)))];
    }

    public static IReadOnlyList<string> Cgroups(string lab) =>
        [.. new[] { "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/memory" }.Select(root => Path.Combine(root, "omlab-" + lab)).Where(Directory.Exists)];

    public static IReadOnlyList<string> Mounts(string lab) =>
        [.. File.ReadLines("/proc/self/mountinfo").Select(l => l.Split(' ')[4]).Where(m => m.StartsWith($"/run/omlab/{lab}", StringComparison.Ordinal))];

    public static void AssertNothingLeft(string lab)
    {
        Assert.Empty(NetworkNamespaces(lab));
        Assert.Empty(Links(lab));
        Assert.Empty(Cgroups(lab));
        Assert.Empty(Mounts(lab));
        Assert.False(Directory.Exists($"/run/omlab/{lab}"), $"/run/omlab/{lab} still exists");
    }

    /// <summary>The namespace inode a /proc/PID/ns link names ("net:[4026532177]" → 4026532177).</summary>
    public static string NamespaceOf(int pid, string kind) => new FileInfo($"/proc/{pid}/ns/{kind}").LinkTarget ?? "";

    public static string NamespaceOfFile(string nsFile) =>
        $"net:[{OpenMosix.Linux.FileStatus.Of(nsFile).Inode}]";
}
