using OpenMosix.Linux.Proc;

namespace OpenMosix.Linux.Tests;

/// <summary>fdinfo text as kernel 6.18 prints it for each kind of anon_inode descriptor (captured from a live process).</summary>
public sealed class KernelObjectFdInfoTests
{
    [Fact]
    public void An_eventfd_counter_is_read_as_hex_with_its_semaphore_flag()
    {
        const string semaphore = "pos:\t0\nflags:\t02004002\nmnt_id:\t17\nino:\t26\neventfd-count:                5\neventfd-id: 1\neventfd-semaphore: 1\n";
        const string large = "pos:\t0\nflags:\t02\nmnt_id:\t17\nino:\t26\neventfd-count:         23456789\neventfd-id: 2\neventfd-semaphore: 0\n";
        Assert.Equal(new EventFdInfo(5, true), KernelObjectFdInfo.ParseEventFd(semaphore));
        Assert.Equal(new EventFdInfo(0x23456789, false), KernelObjectFdInfo.ParseEventFd(large));
    }

    [Fact]
    public void An_eventfd_of_a_kernel_without_the_semaphore_line_is_not_a_semaphore()
    {
        Assert.Equal(new EventFdInfo(0xff, false), KernelObjectFdInfo.ParseEventFd("pos:\t0\nflags:\t02\nmnt_id:\t15\neventfd-count:               ff\n"));
    }

    [Fact]
    public void A_timerfd_gives_its_clock_ticks_flags_time_left_and_interval()
    {
        const string periodic = "pos:\t0\nflags:\t04002\nmnt_id:\t17\nino:\t26\nclockid: 1\nticks: 0\nsettime flags: 00\nit_value: (3, 499991798)\nit_interval: (0, 250000000)\n";
        const string absolute = "pos:\t0\nflags:\t02\nmnt_id:\t17\nino:\t26\nclockid: 0\nticks: 0\nsettime flags: 01\nit_value: (99, 137822110)\nit_interval: (0, 0)\n";
        const string expired = "pos:\t0\nflags:\t02\nmnt_id:\t17\nino:\t26\nclockid: 7\nticks: 1\nsettime flags: 00\nit_value: (0, 0)\nit_interval: (0, 1000000)\n";
        Assert.Equal(new TimerFdInfo(1, 0, 0, 3_499_991_798, 250_000_000), KernelObjectFdInfo.ParseTimerFd(periodic));
        Assert.Equal(new TimerFdInfo(0, 0, 1, 99_137_822_110, 0), KernelObjectFdInfo.ParseTimerFd(absolute));
        Assert.Equal(new TimerFdInfo(7, 1, 0, 0, 1_000_000), KernelObjectFdInfo.ParseTimerFd(expired));
    }

    [Fact]
    public void A_signalfd_mask_has_bit_n_minus_one_for_signal_n()
    {
        // SIGUSR1 (10) and SIGRTMIN+2 (36)
        Assert.Equal((1UL << 9) | (1UL << 35), KernelObjectFdInfo.ParseSignalFd("pos:\t0\nflags:\t04002\nmnt_id:\t17\nino:\t26\nsigmask:\t0000000800000200\n"));
    }

    [Fact]
    public void Epoll_registrations_keep_their_edge_and_one_shot_bits_and_all_64_bits_of_data()
    {
        const string text = "pos:\t0\nflags:\t02000002\nmnt_id:\t17\nino:\t26\n" +
                            "tfd:        5 events: 40000019 data:                7  pos:0 ino:1a sdev:10\n" +
                            "tfd:        3 events: 80000019 data: deadbeefcafe1234  pos:0 ino:1a sdev:10\n" +
                            "tfd:        8 events: 10000019 data:                1  pos:0 ino:1a sdev:10";
        Assert.Equal(
            [
                new EpollRegistrationInfo(5, 0x40000019, 7, 0x1a, 0x10),
                new EpollRegistrationInfo(3, 0x80000019, 0xdeadbeefcafe1234, 0x1a, 0x10),
                new EpollRegistrationInfo(8, 0x10000019, 1, 0x1a, 0x10),
            ],
            KernelObjectFdInfo.ParseEpoll(text));
    }

    [Fact]
    public void An_epoll_instance_without_registrations_has_none()
    {
        Assert.Empty(KernelObjectFdInfo.ParseEpoll("pos:\t0\nflags:\t02\nmnt_id:\t17\nino:\t26\n"));
    }

    [Fact]
    public void Inotify_watches_are_listed_with_inode_device_and_mask()
    {
        const string text = "pos:\t0\nflags:\t04000\nmnt_id:\t17\nino:\t26\n" +
                            "inotify wd:2 ino:35a sdev:fe00000 mask:2 ignored_mask:0 fhandle-bytes:8 fhandle-type:1 f_handle:5a03000000000000\n" +
                            "inotify wd:1 ino:3c570 sdev:fe00000 mask:300 ignored_mask:0 fhandle-bytes:8 fhandle-type:1 f_handle:70c5030000000000\n";
        Assert.Equal(
            [new InotifyWatchInfo(2, 0x35a, 0xfe00000, 2), new InotifyWatchInfo(1, 0x3c570, 0xfe00000, 0x300)],
            KernelObjectFdInfo.ParseInotify(text));
    }

    [Fact]
    public void Fdinfo_of_another_kind_is_refused_with_the_missing_line()
    {
        var e = Assert.Throws<FormatException>(() => KernelObjectFdInfo.ParseTimerFd("pos:\t0\nflags:\t02\n"));
        Assert.Equal("fdinfo has no 'clockid' line", e.Message);
    }
}
