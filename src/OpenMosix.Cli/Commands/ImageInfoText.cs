namespace OpenMosix.Cli.Commands;

/// <summary>The human-readable form of `om image info`.</summary>
internal static class ImageInfoText
{
    public static void Write(TextWriter o, ImageInfo i)
    {
        var inv = CultureInfo.InvariantCulture;
        var mapped = i.Regions.Aggregate(0UL, (sum, r) => sum + r.Length);
        o.WriteLine($"image      {i.Path}: {MiB(i.ImageBytes)}, format v{i.FormatVersion}{(i.Compressed ? ", LZ4" : "")}, all checksums good");
        o.WriteLine($"process    PID {i.Pid} {i.Command} ({string.Join(' ', i.Arguments)})");
        o.WriteLine($"taken      {i.TakenAt.ToString("u", inv)} on {i.Hostname}, kernel {i.Kernel}");
        o.WriteLine($"registers  rip {i.Rip}  rsp {i.Rsp}  rax {i.Rax}  orig_rax {i.OrigRax}  xstate {i.ExtendedStateBytes} bytes");
        o.WriteLine($"signals    blocked {i.BlockedSignals}, {i.SignalHandlers} handlers, pending [{string.Join(", ", i.PendingSignals)}]");
        o.WriteLine($"cwd        {i.WorkingDirectory}");
        o.WriteLine($"memory     {i.Regions.Count} regions, {MiB((long)mapped)} mapped, {MiB((long)i.PageBytes)} stored in {i.PageRuns} runs ({i.PageSections} sections)");
        o.WriteLine();
        o.WriteLine($"{"start",-14} {"end",-14} {"prot",-4} {"kind",-11} {"stored",10}  name");
        foreach (var r in i.Regions)
            o.WriteLine($"{r.Start,-14} {r.End,-14} {r.Protection,-4} {r.Kind,-11} {MiB((long)r.StoredBytes),10}  {r.Name}");
        o.WriteLine();
        o.WriteLine($"{"fd",3} {"kind",-14} {"flags",-8} {"offset",12}  path");
        foreach (var f in i.Files)
            o.WriteLine($"{f.Fd,3} {f.Kind,-14} {f.Flags,-8} {f.Offset,12}  {f.Path}");
    }

    private static string MiB(long bytes) => (bytes / 1048576.0).ToString("F1", CultureInfo.InvariantCulture) + " MiB";
}
