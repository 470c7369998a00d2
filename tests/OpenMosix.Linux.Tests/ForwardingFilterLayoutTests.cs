using System.Buffers.Binary;
using OpenMosix.Linux.Seccomp;

namespace OpenMosix.Linux.Tests;

/// <summary>
/// The forwarding filter at its documented maximum (<see cref="ForwardingFilter.MaxForwarded"/> descriptors) with
/// every kind of call: each verdict checked against what the filter is meant to do, by running the program through a
/// classic BPF interpreter for every call it lists over numbers on both sides of each boundary; and run by the kernel.
/// A jump spans at most 255 instructions, which used to leave room for only 175 descriptors with every kind.
/// </summary>
public sealed class ForwardingFilterLayoutTests
{
    private const int OwnPid = 4242, ReservedFrom = 1000;
    private const uint Allow = 0x7fff0000, Notify = 0x7fc00000;
    private static readonly int[] Forwarded = [.. Enumerable.Range(10, ForwardingFilter.MaxForwarded)];
    private static readonly int[] TerminalFds = [300, 301, 302];

    private static byte[] Full(IReadOnlyCollection<int> forwarded) => ForwardingFilter.Build(forwarded, ReservedFrom, childCalls: true, ownPid: OwnPid,
        pathCalls: true, terminalGroups: true, terminalReads: TerminalFds, socketCalls: true, terminalWrites: true);

    [Fact]
    public void A_filter_with_the_maximum_of_forwarded_descriptors_and_every_kind_of_call_hands_over_exactly_the_calls_it_should()
    {
        var program = Full(Forwarded);
        int[] numbers = [0, 1, 2, 299, 300, 301, 302, 303, 8, 9, 10, 11, 100, 208, 209, 210, 211, 500, 999, 1000, 1001, 65535, -1, -100];
        int[] others = [SyscallNr.Socket, SyscallNr.Kill, SyscallNr.Tgkill, 74 /* fsync */, 9 /* mmap */, 60 /* exit */];
        var checkedCalls = 0;
        foreach (var nr in ForwardingFilter.Calls.Concat(ForwardingFilter.ChildCalls).Concat(ForwardingFilter.PathCalls).Concat(others).Distinct())
            foreach (var arg0 in numbers.Concat([OwnPid, 2, 10]))
                foreach (var arg1 in new ulong[] { 0, 15, 20, 0x5410, 0x5402, 0x541B })
                    foreach (var arg2 in new ulong[] { 0, 21 })
                    {
                        ulong[] args = [unchecked((ulong)(long)arg0), arg1, arg2, 0, 0, 0];
                        Assert.True(Expected(nr, args) == Run(program, nr, 0xc000003e, args), $"call {nr} ({arg0}, {arg1}, {arg2})");
                        checkedCalls++;
                    }
        Assert.True(checkedCalls > 10_000);
        // Another architecture's calls and x32's are never handed over.
        Assert.Equal(Allow, Run(program, SyscallNr.Write, 0x40000003, [10, 0, 0, 0, 0, 0]));
        Assert.Equal(Allow, Run(program, 0x40000000 | SyscallNr.Write, 0xc000003e, [10, 0, 0, 0, 0, 0]));
    }

    /// <summary>Installs the filter, writes to a pipe of its own (3 and 4 in a fresh python3: numbers the filter does not list) and
    /// to the highest forwarded number, 209, which it does not have: only a supervisor can answer that.</summary>
    private const string Child = OpenMosix.TestSupport.FilteredPython.Preamble + """
        r, w = os.pipe()
        install_filter()
        sys.stdin.readline()
        print("local", os.write(w, b"local"), flush=True)
        print("forwarded", os.write(209, b"abc"), flush=True)
        """;

    [Fact]
    public void The_filter_at_the_maximum_is_installed_by_the_kernel_and_hands_over_a_write_to_its_highest_forwarded_number()
    {
        using var process = ForwardingFilterTests.StartFiltered(Child, Full(Forwarded));
        try
        {
            using var listener = ForwardingFilterTests.TakeListener(process);
            Assert.Equal("local 5", ForwardingFilterTests.ReadLine(process));
            var write = ForwardingFilterTests.Next(listener);
            Assert.Equal((SyscallNr.Write, (ulong)Forwarded[^1], 3UL), (write.Nr, write.Args[0], write.Args[2]));
            Assert.True(SeccompListener.Answer(listener, write.Id, 3));
            Assert.Equal("forwarded 3", ForwardingFilterTests.ReadLine(process));
            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(20)));
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited) process.Kill();
        }
    }

    [Fact]
    public void One_descriptor_more_than_the_maximum_is_refused()
    {
        Assert.Throws<ArgumentException>(() => Full([.. Enumerable.Range(10, ForwardingFilter.MaxForwarded + 1)]));
    }

    /// <summary>What the filter is meant to answer (ForwardingFilter.Build's documentation), written out plainly.</summary>
    private static uint Expected(int nr, ulong[] args)
    {
        var fd = (uint)args[0];
        if (ForwardingFilter.SignalCalls.Contains(nr))
        {
            if (fd != OwnPid) return Notify;
            var signal = (uint)(nr == SyscallNr.Tgkill ? args[2] : args[1]);
            return ForwardingFilter.TerminalStops.Contains((int)signal) ? Notify : Allow;
        }
        if (ForwardingFilter.ChildCalls.Contains(nr) || ForwardingFilter.PathCalls.Contains(nr)) return Notify;
        if (nr == SyscallNr.Socket) return ForwardingFilter.HomeSocketFamilies.Contains((int)fd) ? Notify : Allow;
        if (!ForwardingFilter.Calls.Contains(nr)) return Allow;
        if (nr == SyscallNr.Ioctl && ForwardingFilter.TerminalChanges.Contains((uint)args[1])) return Notify;
        if (nr is SyscallNr.Read or SyscallNr.Readv or SyscallNr.Write or SyscallNr.Writev && TerminalFds.Contains((int)fd)) return Notify;
        if (Forwarded.Contains((int)fd)) return Notify;
        return fd >= ReservedFrom && fd < 0x80000000 ? Notify : Allow;
    }

    /// <summary>Runs a classic BPF program of the instructions ForwardingFilter uses over a struct seccomp_data.</summary>
    private static uint Run(byte[] program, int nr, uint arch, ulong[] args)
    {
        var data = new byte[64];
        BinaryPrimitives.WriteInt32LittleEndian(data, nr);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(4), arch);
        for (var i = 0; i < 6; i++) BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(16 + 8 * i), args[i]);
        uint a = 0;
        for (var pc = 0; pc < program.Length / 8;)
        {
            var at = program.AsSpan(pc * 8);
            var (code, jt, jf, k) = (BinaryPrimitives.ReadUInt16LittleEndian(at), at[2], at[3], BinaryPrimitives.ReadUInt32LittleEndian(at[4..]));
            pc++;
            switch (code)
            {
                case 0x00: a = k; break;
                case 0x20: a = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan((int)k)); break;
                case 0x05: pc += (int)k; break;
                case 0x15: pc += a == k ? jt : jf; break;
                case 0x35: pc += a >= k ? jt : jf; break;
                case 0x06: return k;
                default: throw new InvalidOperationException($"instruction {code:x} not known to this interpreter");
            }
        }
        throw new InvalidOperationException("the program ran off its end");
    }
}
