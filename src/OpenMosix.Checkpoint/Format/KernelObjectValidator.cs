using OpenMosix.Checkpoint.CantMove;
using OpenMosix.Checkpoint.Dump;
using static OpenMosix.Checkpoint.Format.MetadataValidator;

namespace OpenMosix.Checkpoint.Format;

/// <summary>
/// Bounds every field of the kernel-object descriptors of an image (eventfd, timerfd, signalfd, epoll, memfd) and
/// of shared memfd mappings, so that a hostile image can neither make the restorer allocate without limit nor
/// replay a registration or a mapping that names nothing the image rebuilds.
/// </summary>
internal static class KernelObjectValidator
{
    private const int MaxRegistrations = 1 << 16, MaxMemfdName = 249, KnownSeals = 0x3f, TimerFlags = 3;
    private const long MaxMemfdSize = 1L << 46;

    public static void Validate(ProcessImage image)
    {
        var byFd = new Dictionary<int, FileDescriptorRecord>();
        foreach (var f in image.Files) Require(byFd.TryAdd(f.Fd, f), $"file descriptor {f.Fd} appears twice");
        long memfdBytes = 0;
        foreach (var f in image.Files)
        {
            var at = $"fd {f.Fd} ({f.Kind})";
            if (f.DuplicateOf is { } of)
            {
                Require(of < f.Fd && byFd.TryGetValue(of, out var original) && original.Kind == f.Kind && original.DuplicateOf is null,
                    $"{at} is a duplicate of fd {of}, which is not an earlier descriptor of the same kind");
                continue;
            }
            switch (f.Kind)
            {
                case FileKind.EventFd:
                    Require(f.EventFd is { Count: < ulong.MaxValue }, $"{at} has no eventfd state or an impossible count");
                    break;
                case FileKind.TimerFd:
                    Require(f.TimerFd is { RemainingNanoseconds: >= 0, IntervalNanoseconds: >= 0, AbsoluteNanoseconds: >= 0 } t
                        && TimerClocks.IsValid(t.ClockId) && (t.SettimeFlags & ~TimerFlags) == 0, $"{at} has no timerfd state or an impossible one");
                    break;
                case FileKind.SignalFd:
                    Require(f.SignalFd is not null, $"{at} has no signal mask");
                    break;
                case FileKind.Epoll:
                    Require(f.Epoll is { } e && e.Registrations.Count <= MaxRegistrations, $"{at} has no registrations or too many");
                    foreach (var r in f.Epoll!.Registrations)
                        Require(r.TargetFd != f.Fd && byFd.TryGetValue(r.TargetFd, out _), $"{at} registers fd {r.TargetFd}, which the image does not rebuild");
                    break;
                case FileKind.Memfd:
                    memfdBytes += Memfd(f, at, byFd);
                    break;
            }
        }
        Require(memfdBytes <= KernelObjectReasons.MaxMemfdBytes, $"memfd contents of {memfdBytes} bytes");
        foreach (var r in image.Regions.Where(r => r.Kind == RegionKind.SharedMemfd))
            Require(image.Files.Any(f => f.Memfd is { SameMemoryAs: null } && f.DuplicateOf is null && f.Device == r.Device && f.Inode == r.Inode),
                $"shared memfd mapping 0x{r.Start:x} has no memfd in the image");
    }

    private static long Memfd(FileDescriptorRecord f, string at, Dictionary<int, FileDescriptorRecord> byFd)
    {
        var m = f.Memfd;
        Require(m is not null && m.Name.Length <= MaxMemfdName && !m.Name.Contains('\0', StringComparison.Ordinal)
                && m.Size is >= 0 and <= MaxMemfdSize && m.Mode <= 0xfff && (m.Seals & ~KnownSeals) == 0,
            $"{at} has no memfd state or an impossible one");
        if (m!.SameMemoryAs is { } first)
        {
            Require(first < f.Fd && byFd.TryGetValue(first, out var other) && other.Memfd is { SameMemoryAs: null } && m.Contents.Count == 0,
                $"{at} reopens memfd fd {first}, which is not an earlier memfd of the image");
            return 0;
        }
        long bytes = 0, end = 0;
        foreach (var extent in m.Contents)
        {
            Require(extent.Offset >= end && extent.Data.Length > 0 && extent.Offset + extent.Data.Length <= m.Size,
                $"{at} has memfd contents at {extent.Offset} outside its size or out of order");
            end = extent.Offset + extent.Data.Length;
            bytes += extent.Data.Length;
        }
        return bytes;
    }
}
