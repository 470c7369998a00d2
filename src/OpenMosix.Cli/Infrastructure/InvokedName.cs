namespace OpenMosix.Cli.Infrastructure;

/// <summary>The name `om` was started under (argv[0]'s file name), which may be a classic name such as `mosrun`.</summary>
internal static class InvokedName
{
    public static string Read()
    {
        // /proc/self/cmdline holds argv[0] exactly as the caller passed it, symlink name included.
        try
        {
            var cmdline = File.ReadAllBytes("/proc/self/cmdline");
            var end = Array.IndexOf(cmdline, (byte)0);
            var argv0 = System.Text.Encoding.UTF8.GetString(cmdline, 0, end < 0 ? cmdline.Length : end);
            return Path.GetFileName(argv0);
        }
        catch (IOException)
        {
            return "om";
        }
    }
}
