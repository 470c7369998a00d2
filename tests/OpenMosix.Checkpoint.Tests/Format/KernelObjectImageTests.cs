using OpenMosix.Checkpoint.Format;
using OpenMosix.Checkpoint.Image;

namespace OpenMosix.Checkpoint.Tests.Format;

/// <summary>Images whose kernel-object descriptors a restorer must not act on: every field is bounded on read.</summary>
public sealed class KernelObjectImageTests
{
    [Fact]
    public void Kernel_object_records_survive_the_format_unchanged()
    {
        var image = With(Epoll(7), Memfd(4, new MemfdExtent { Offset = 4096, Data = [1, 2, 3] }),
            new FileDescriptorRecord { Fd = 5, Kind = FileKind.TimerFd, Path = "anon_inode:[timerfd]", TimerFd = new TimerFdRecord { ClockId = 1, IntervalNanoseconds = 30_000_000, Ticks = 2 } },
            new FileDescriptorRecord { Fd = 6, Kind = FileKind.TimerFd, Path = "anon_inode:[timerfd]", DuplicateOf = 5 });
        var read = SampleImages.Read(new MemoryStream(SampleImages.Write(image, []))).Image;
        var epoll = read.Files.Single(f => f.Fd == 7).Epoll!.Registrations.Single();
        Assert.Equal((4, 0x80000001u, 0xfedcba9876543210UL), (epoll.TargetFd, epoll.Events, epoll.Data));
        Assert.Equal([1, 2, 3], read.Files.Single(f => f.Fd == 4).Memfd!.Contents.Single().Data);
        Assert.Equal(2UL, read.Files.Single(f => f.Fd == 5).TimerFd!.Ticks);
        Assert.Equal(5, read.Files.Single(f => f.Fd == 6).DuplicateOf);
    }

    [Theory]
    [MemberData(nameof(HostileImages))]
    public void A_hostile_kernel_object_record_is_refused_before_anything_is_restored(string reason, ProcessImage image)
    {
        var e = Assert.Throws<CorruptImageException>(() => ImageVerifier.Verify(new MemoryStream(CraftedImages.Build(image))));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, ProcessImage> HostileImages() => new()
    {
        { "registers fd 9, which the image does not rebuild", With(Epoll(7, target: 9)) },
        { "registers fd 7, which the image does not rebuild", With(Epoll(7, target: 7)) },
        { "has memfd contents at 8192 outside its size", With(Memfd(4, new MemfdExtent { Offset = 8192, Data = new byte[4096] })) },
        { "out of order", With(Memfd(4, new MemfdExtent { Offset = 0, Data = new byte[4096] }, new MemfdExtent { Offset = 100, Data = [1] })) },
        { "fd 4 (Memfd) has no memfd state", With(new FileDescriptorRecord { Fd = 4, Kind = FileKind.Memfd, Path = "/memfd:x (deleted)" }) },
        { "fd 5 (TimerFd) has no timerfd state or an impossible one", With(new FileDescriptorRecord { Fd = 5, Kind = FileKind.TimerFd, Path = "t", TimerFd = new TimerFdRecord { ClockId = 42 } }) },
        { "fd 5 (EventFd) has no eventfd state", With(new FileDescriptorRecord { Fd = 5, Kind = FileKind.EventFd, Path = "e", EventFd = new EventFdRecord { Count = ulong.MaxValue } }) },
        { "fd 6 (EventFd) is a duplicate of fd 7", With(new FileDescriptorRecord { Fd = 6, Kind = FileKind.EventFd, Path = "e", DuplicateOf = 7 }) },
        { "file descriptor 3 appears twice", With(new FileDescriptorRecord { Fd = 3, Kind = FileKind.SignalFd, Path = "s", SignalFd = new SignalFdRecord() }) },
        { "shared memfd mapping 0x7f0000010000 has no memfd in the image", WithMapping() },
    };

    private static ProcessImage With(params FileDescriptorRecord[] files)
    {
        var image = SampleImages.Metadata();
        image.Files.AddRange(files);
        return image;
    }

    private static ProcessImage WithMapping()
    {
        var image = SampleImages.Metadata();
        image.Regions.Insert(3, new MemoryRegion
        {
            Start = 0x7f00_0001_0000, End = 0x7f00_0001_1000, Protection = MemoryProtection.Read, Kind = RegionKind.SharedMemfd, Shared = true,
            Name = "/memfd:jit (deleted)", Device = 1, Inode = 77,
        });
        return image;
    }

    private static FileDescriptorRecord Epoll(int fd, int target = 4) => new()
    {
        Fd = fd, Kind = FileKind.Epoll, Path = "anon_inode:[eventpoll]",
        Epoll = new EpollRecord { Registrations = [new EpollRegistration { TargetFd = target, Events = 0x80000001, Data = 0xfedcba9876543210 }] },
    };

    private static FileDescriptorRecord Memfd(int fd, params MemfdExtent[] contents) => new()
    {
        Fd = fd, Kind = FileKind.Memfd, Path = "/memfd:jit (deleted)", Device = 1, Inode = 77,
        Memfd = new MemfdRecord { Name = "jit", Size = 8192, Mode = 0x1ff, Contents = [.. contents] },
    };
}
