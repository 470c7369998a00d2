using System.Buffers.Binary;
using OpenMosix.Linux.Proc;

namespace OpenMosix.Linux.Tests;

public sealed class ProcParserTests
{
    [Fact]
    public void Maps_lines_with_paths_labels_spaces_and_deleted_files_are_parsed()
    {
        const string text =
            "55d0c0a00000-55d0c0a21000 rw-p 00000000 00:00 0                          [heap]\n" +
            "7f1a2b000000-7f1a2b022000 r-xp 00028000 08:01 1316112                    /usr/lib/x86_64-linux-gnu/libc.so.6\n" +
            "7f1a2c000000-7f1a2c001000 rw-s 00000000 00:01 2048                       /tmp/my file (deleted)\n" +
            "7f1a2d000000-7f1a2d004000 ---p 00000000 00:00 0 \n" +
            "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";
        var maps = MapsParser.Parse(text);
        Assert.Equal(5, maps.Count);
        Assert.Equal(new MapsEntry(0x55d0c0a00000, 0x55d0c0a21000, true, true, false, false, 0, 0, 0, 0, "[heap]"), maps[0]);
        Assert.Equal(0x28000UL, maps[1].Offset);
        Assert.Equal((8u, 1u, 1316112UL), (maps[1].DeviceMajor, maps[1].DeviceMinor, maps[1].Inode));
        Assert.True(maps[1].IsFileBacked && maps[1].Execute && !maps[1].Write);
        Assert.Equal("/tmp/my file (deleted)", maps[2].Name);
        Assert.True(maps[2].Shared && maps[2].IsDeletedFile);
        Assert.Equal("", maps[3].Name);
        Assert.False(maps[3].Read || maps[3].Write || maps[3].Execute);
        Assert.Equal(0xffffffffff601000UL, maps[4].End);
    }

    [Fact]
    public void Garbage_maps_line_is_a_format_error_naming_the_line()
    {
        var e = Assert.Throws<FormatException>(() => MapsParser.ParseLine("zzz-1 rw-p"));
        Assert.Contains("zzz-1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Own_maps_are_sorted_and_device_numbers_match_stat_of_the_mapped_file()
    {
        var maps = ProcFs.ReadMaps(Environment.ProcessId);
        Assert.Contains(maps, m => m.Name == "[stack]");
        for (var i = 1; i < maps.Count; i++) Assert.True(maps[i].Start >= maps[i - 1].End);
        var libc = maps.First(m => m.Name.Contains("libc.so", StringComparison.Ordinal));
        var st = FileStatus.Of(libc.Name);
        Assert.Equal(st.Device, libc.Device);
        Assert.Equal(st.Inode, libc.Inode);
    }

    [Fact]
    public void Stat_comm_with_spaces_and_parentheses_does_not_shift_the_fields()
    {
        var fields = string.Join(' ', Enumerable.Range(4, 49).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var stat = ProcStat.Parse($"1234 (a) b (c) S {fields}\n");
        Assert.Equal(1234, stat.Pid);
        Assert.Equal("a) b (c", stat.Comm);
        Assert.Equal('S', stat.State);
        Assert.Equal(4, stat.PPid);
        Assert.Equal(47UL, stat.StartBrk);
        Assert.Equal(28UL, stat.StartStack);
    }

    [Fact]
    public void Own_stat_and_status_describe_this_process()
    {
        var pid = Environment.ProcessId;
        var stat = ProcFs.ReadStat(pid);
        Assert.Equal(pid, stat.Pid);
        Assert.False(stat.IsKernelThread);
        Assert.True(stat.StartBrk > 0);
        var status = ProcFs.ReadStatus(pid);
        Assert.Equal(pid, status.Tgid);
        Assert.True(status.Threads > 1);
        Assert.Equal(4, status.Uid.Length);
        Assert.NotNull(status.Umask);
    }

    [Fact]
    public void Status_fields_are_parsed_from_crafted_text()
    {
        const string text = "Name:\tmy prog\nUmask:\t0027\nState:\tS (sleeping)\nTgid:\t77\nPid:\t77\nPPid:\t1\nTracerPid:\t5\n" +
                            "Uid:\t1000\t1001\t1002\t1003\nGid:\t100\t101\t102\t103\nGroups:\t4 24 27 \nThreads:\t1\n" +
                            "SigPnd:\t0000000000000800\nShdPnd:\t0000000000000000\nSigBlk:\t0000000000000800\nSigIgn:\t0000000000001000\nSigCgt:\t0000000000000200\n";
        var s = ProcStatus.Parse(text);
        Assert.Equal("my prog", s.Name);
        Assert.Equal(0x17u, s.Umask);
        Assert.Equal(5, s.TracerPid);
        Assert.Equal([1000u, 1001, 1002, 1003], s.Uid);
        Assert.Equal([4u, 24, 27], s.Groups);
        Assert.Equal(0x800UL, s.SigBlk);
        Assert.Equal(0x1000UL, s.SigIgn);
    }

    [Fact]
    public void Fdinfo_flags_are_octal_and_carry_close_on_exec()
    {
        var info = FdInfo.Parse("pos:\t4096\nflags:\t02102001\nmnt_id:\t29\nino:\t1234\n");
        Assert.Equal(4096, info.Position);
        Assert.Equal(Convert.ToInt32("2102001", 8), info.Flags);
        Assert.True(info.CloseOnExec);
        Assert.Equal(1234UL, info.Inode);
    }

    [Fact]
    public void Auxv_pairs_stop_at_at_null()
    {
        var raw = new byte[64];
        BinaryPrimitives.WriteUInt64LittleEndian(raw, Auxv.AT_PAGESZ);
        BinaryPrimitives.WriteUInt64LittleEndian(raw.AsSpan(8), 4096);
        BinaryPrimitives.WriteUInt64LittleEndian(raw.AsSpan(32), 99); // after AT_NULL: ignored
        var auxv = Auxv.Parse(raw);
        Assert.Equal(new Dictionary<ulong, ulong> { [Auxv.AT_PAGESZ] = 4096 }, auxv);
        Assert.Equal(4096UL, Auxv.Parse(ProcFs.ReadAuxv(Environment.ProcessId))[Auxv.AT_PAGESZ]);
    }

    [Fact]
    public unsafe void Pagemap_shows_a_touched_anonymous_page_as_present_and_private()
    {
        var memory = GC.AllocateArray<byte>(1 << 16, pinned: true);
        memory[8192] = 1;
        fixed (byte* p = &memory[8192])
        {
            var page = (ulong)p & ~4095UL;
            using var pagemap = Pagemap.Open(Environment.ProcessId);
            Span<ulong> entry = stackalloc ulong[1];
            Pagemap.Read(pagemap, page, entry);
            Assert.True(Pagemap.IsPopulated(entry[0]));
            Assert.True(Pagemap.IsPrivateData(entry[0]));
        }
    }

    [Fact]
    public void Task_list_and_descriptors_of_this_process_are_listed()
    {
        var pid = Environment.ProcessId;
        Assert.Contains(pid, ProcFs.ReadTasks(pid));
        Assert.Contains(ProcFs.ReadDescriptors(pid), d => d.Fd == 0);
    }

    [Fact]
    public void Reading_a_missing_process_says_no_such_process()
    {
        var e = Assert.Throws<ProcessAccessException>(() => ProcFs.ReadStatus(int.MaxValue - 1));
        Assert.Equal($"process {int.MaxValue - 1}: no such process", e.Message);
    }

    [Fact]
    public void Limits_table_gives_sixteen_limits_with_unlimited_as_the_maximum_value()
    {
        const string text =
            "Limit                     Soft Limit           Hard Limit           Units     \n" +
            "Max cpu time              unlimited            unlimited            seconds   \n" +
            "Max open files            1024                 524288               files     \n";
        Assert.Equal([(ulong.MaxValue, ulong.MaxValue), (1024UL, 524288UL)], LimitsParser.Parse(text));
        var own = ProcFs.ReadLimits(Environment.ProcessId);
        Assert.Equal(ResourceLimits.Count, own.Count);
        var nofile = ResourceLimits.Get(Environment.ProcessId, ResourceLimits.RLIMIT_NOFILE);
        Assert.Equal((nofile.Current, nofile.Maximum), own[ResourceLimits.RLIMIT_NOFILE]);
    }

    [Fact]
    public void Meminfo_gives_total_and_available_in_bytes_whatever_lines_surround_them()
    {
        const string text = "MemTotal:       24628164 kB\nMemFree:        20000000 kB\nMemAvailable:   22000000 kB\n" +
            "Buffers:          123 kB\nHugePages_Total:       0\nDirectMap1G:    4194304 kB";
        Assert.Equal(new MemInfo(24628164UL * 1024, 22000000UL * 1024), MemInfo.Parse(text));
    }

    [Theory]
    [InlineData("MemFree:  1 kB\nMemAvailable:  2 kB\n")]
    [InlineData("MemTotal:  12x kB\n")]
    [InlineData("MemTotal:\n")]
    public void Meminfo_without_a_readable_total_is_refused(string text) =>
        Assert.Throws<FormatException>(() => MemInfo.Parse(text));

    [Fact]
    public void This_machines_meminfo_reads_as_a_total_above_what_is_available()
    {
        var info = MemInfo.Read();
        Assert.True(info.Total > 0 && info.Available > 0 && info.Available <= info.Total, $"{info}");
    }
}
