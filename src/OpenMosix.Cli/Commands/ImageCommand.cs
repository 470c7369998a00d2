using System.Buffers.Binary;
using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Image;

namespace OpenMosix.Cli.Commands;

internal static class ImageCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("IMAGE") { Description = "The image file to read." };
        var info = ResultCommand.Create("info", "Check an image from end to end and describe it: process, registers, memory regions, descriptors.",
            [path], CliJsonContext.Default.ImageInfo,
            parse =>
            {
                var file = parse.GetRequiredValue(path);
                return ImageInfo.From(file, ImageVerifier.VerifyFile(file));
            },
            view => ImageInfoText.Write(Console.Out, view));
        return new Command("image", "Work with checkpoint images.") { info };
    }
}

internal sealed record ImageInfo(
    string Path, long ImageBytes, bool Compressed, uint FormatVersion,
    int Pid, string Command, string Executable, IReadOnlyList<string> Arguments, string Hostname, string Kernel, DateTimeOffset TakenAt,
    string Rip, string Rsp, string Rax, string OrigRax, int ExtendedStateBytes,
    string BlockedSignals, int SignalHandlers, IReadOnlyList<int> PendingSignals,
    string WorkingDirectory, ulong PageBytes, ulong PageRuns, ulong PageSections,
    IReadOnlyList<RegionInfo> Regions, IReadOnlyList<FileInfoView> Files)
{
    private const int RaxOffset = 10 * 8, OrigRaxOffset = 15 * 8, RipOffset = 16 * 8, RspOffset = 19 * 8;

    public static ImageInfo From(string path, ImageSummary summary)
    {
        var image = summary.Metadata;
        var regs = image.Cpu.GeneralRegisters;
        string Reg(int offset) => $"0x{BinaryPrimitives.ReadUInt64LittleEndian(regs.AsSpan(offset)):x}";
        return new ImageInfo(
            System.IO.Path.GetFullPath(path), summary.ImageBytes, summary.Flags.HasFlag(ImageFlags.Compressed), ImageFormat.Version,
            image.Origin.Pid, image.Origin.Command, image.Origin.ExecutablePath, image.Origin.Arguments, image.Origin.Hostname,
            image.Origin.KernelRelease, image.Origin.TakenAt,
            Reg(RipOffset), Reg(RspOffset), Reg(RaxOffset), Reg(OrigRaxOffset), image.Cpu.ExtendedState.Length,
            $"0x{image.Signals.BlockedMask:x}", image.Signals.Actions.Count(a => a.Handler > 1),
            [.. image.Signals.Pending.Select(p => p.Number)],
            image.Attributes.WorkingDirectory, summary.PageBytes, summary.PageRuns, summary.PageSections,
            [.. image.Regions.Select(r => new RegionInfo(
                $"0x{r.Start:x}", $"0x{r.End:x}", r.Length, Protection(r), r.Kind.ToString(), r.Name,
                summary.StoredBytesByRegion.GetValueOrDefault(r.Start)))],
            [.. image.Files.Select(f => new FileInfoView(f.Fd, f.Kind.ToString(), f.Path, $"0{Convert.ToString(f.Flags, 8)}", f.Offset))]);
    }

    private static string Protection(MemoryRegion r) =>
        $"{(r.Protection.HasFlag(MemoryProtection.Read) ? 'r' : '-')}{(r.Protection.HasFlag(MemoryProtection.Write) ? 'w' : '-')}" +
        $"{(r.Protection.HasFlag(MemoryProtection.Execute) ? 'x' : '-')}{(r.Shared ? 's' : 'p')}";
}

internal sealed record RegionInfo(string Start, string End, ulong Length, string Protection, string Kind, string Name, ulong StoredBytes);

internal sealed record FileInfoView(int Fd, string Kind, string Path, string Flags, long Offset);
