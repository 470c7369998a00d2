using System.Buffers.Binary;
using OpenMosix.Linux.Events;
using static OpenMosix.Linux.Tests.ConnectorMessages;

namespace OpenMosix.Linux.Tests;

public sealed class ProcessEventParserTests
{
    private static List<ProcessEvent> Parse(byte[] datagram)
    {
        var events = new List<ProcessEvent>();
        var added = ProcessEventParser.Parse(datagram, events);
        Assert.Equal(events.Count, added);
        return events;
    }

    [Fact]
    public void A_fork_of_a_process_names_the_child_and_its_parent_process()
    {
        var parsed = Assert.Single(Parse(Fork(parentPid: 101, parentTgid: 100, childPid: 200, childTgid: 200, timestampNs: 5_000_000_000)));
        Assert.Equal(new ProcessEvent(ProcessEventKind.Fork, 200, 100, TimeSpan.FromSeconds(5)), parsed);
    }

    [Fact]
    public void A_new_thread_is_not_a_fork()
    {
        Assert.Empty(Parse(Fork(parentPid: 100, parentTgid: 100, childPid: 201, childTgid: 100)));
    }

    [Fact]
    public void An_exec_names_the_thread_group()
    {
        var parsed = Assert.Single(Parse(Exec(pid: 300, tgid: 300, timestampNs: 42)));
        Assert.Equal((ProcessEventKind.Exec, 300, 0), (parsed.Kind, parsed.Pid, parsed.ParentPid));
    }

    [Fact]
    public void An_exit_of_the_leader_carries_its_wait_status_and_parent_process()
    {
        var parsed = Assert.Single(Parse(Exit(pid: 400, tgid: 400, exitCode: 3 << 8, parentPid: 11, parentTgid: 10, timestampNs: 7)));
        Assert.Equal((ProcessEventKind.Exit, 400, 10, 3 << 8), (parsed.Kind, parsed.Pid, parsed.ParentPid, parsed.ExitStatus));
    }

    [Fact]
    public void The_exit_of_a_thread_that_is_not_the_leader_is_skipped()
    {
        Assert.Empty(Parse(Exit(pid: 401, tgid: 400, exitCode: 0, parentPid: 10, parentTgid: 10)));
    }

    [Fact]
    public void Timestamps_in_nanoseconds_become_time_spans_to_the_tick()
    {
        var parsed = Assert.Single(Parse(Exec(1, 1, timestampNs: 1_234_567_890_123)));
        Assert.Equal(TimeSpan.FromTicks(12_345_678_901), parsed.Timestamp);
        var large = Assert.Single(Parse(Exec(1, 1, timestampNs: 86_400UL * 365 * 1_000_000_000)));
        Assert.Equal(TimeSpan.FromDays(365), large.Timestamp);
    }

    [Fact]
    public void Every_message_of_a_datagram_is_read_in_order_skipping_threads_and_padding()
    {
        // A message whose length is not a multiple of 4 is followed by padding to the next boundary.
        var padded = Fork(1, 1, 2, 2).Append((byte)0xEE).ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(padded, (uint)padded.Length);
        var datagram = Datagram(padded, Fork(2, 2, 3, 2), Exec(2, 2), Exit(2, 2, 0, 1, 1));

        Assert.Equal(
            [(ProcessEventKind.Fork, 2), (ProcessEventKind.Exec, 2), (ProcessEventKind.Exit, 2)],
            Parse(datagram).Select(e => (e.Kind, e.Pid)));
    }

    [Fact]
    public void Events_are_appended_to_those_already_in_the_list()
    {
        var events = new List<ProcessEvent> { new(ProcessEventKind.Lost, 0, 0, TimeSpan.Zero) };
        Assert.Equal(1, ProcessEventParser.Parse(Exec(5, 5), events));
        Assert.Equal([ProcessEventKind.Lost, ProcessEventKind.Exec], events.Select(e => e.Kind));
    }

    [Theory]
    [InlineData(2u, 1u)] // another connector (CN_IDX_CIFS)
    [InlineData(1u, 2u)]
    public void A_message_of_another_connector_yields_nothing(uint index, uint value)
    {
        Assert.Empty(Parse(Message(0x1, 0, [1, 1, 2, 2], index, value)));
    }

    [Theory]
    [InlineData(0x0u)] // PROC_EVENT_NONE: the answer to a subscription
    [InlineData(0x4u)] // PROC_EVENT_UID
    [InlineData(0x200u)] // PROC_EVENT_COMM
    public void Events_of_other_kinds_yield_nothing(uint what)
    {
        Assert.Empty(Parse(Message(what, 0, [1, 1, 2, 2, 3, 3])));
    }

    [Fact]
    public void Every_truncation_of_a_datagram_parses_without_throwing_and_never_invents_an_event()
    {
        var whole = Datagram(Fork(1, 1, 2, 2), Exec(2, 2), Exit(2, 2, 0, 1, 1));
        var complete = Parse(whole);
        for (var length = 0; length < whole.Length; length++)
        {
            var events = Parse(whole[..length]);
            Assert.True(events.Count < 3 && events.SequenceEqual(complete.Take(events.Count)), $"cut at {length}: {events.Count} events");
        }
    }

    [Fact]
    public void A_message_claiming_more_bytes_than_the_datagram_holds_yields_nothing()
    {
        var message = Fork(1, 1, 2, 2);
        BinaryPrimitives.WriteUInt32LittleEndian(message, (uint)message.Length + 4);
        Assert.Empty(Parse(message));
        BinaryPrimitives.WriteUInt32LittleEndian(message, uint.MaxValue);
        Assert.Empty(Parse(message));
    }

    [Fact]
    public void A_message_claiming_less_than_a_netlink_header_ends_the_datagram()
    {
        foreach (var claimed in new uint[] { 0, 15 })
        {
            var first = Fork(1, 1, 2, 2);
            BinaryPrimitives.WriteUInt32LittleEndian(first, claimed);
            Assert.Empty(Parse(Datagram(first, Exec(2, 2))));
        }
    }

    [Fact]
    public void A_message_too_short_for_its_event_data_yields_nothing()
    {
        // A fork needs 16 bytes of data and an exit 24: a message cut inside them is skipped, the next one is read.
        var fork = Fork(1, 1, 2, 2)[..(16 + 20 + 16 + 12)];
        BinaryPrimitives.WriteUInt32LittleEndian(fork, (uint)fork.Length);
        var exit = Exit(2, 2, 0, 1, 1)[..(16 + 20 + 16 + 20)];
        BinaryPrimitives.WriteUInt32LittleEndian(exit, (uint)exit.Length);
        Assert.Equal([ProcessEventKind.Exec], Parse(Datagram(fork, exit, Exec(3, 3))).Select(e => e.Kind));
    }

    [Fact]
    public void Random_bytes_never_throw()
    {
        var random = new Random(13);
        var events = new List<ProcessEvent>();
        for (var i = 0; i < 2000; i++)
        {
            var bytes = new byte[random.Next(0, 300)];
            random.NextBytes(bytes);
            // Half of them with a plausible length and the process connector's address, so the parser goes deeper.
            if (i % 2 == 0 && bytes.Length >= 52)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)random.Next(16, bytes.Length + 1));
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), IndexProc);
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(20), ValueProc);
            }
            ProcessEventParser.Parse(bytes, events);
        }
        Assert.All(events, e => Assert.True(e.Kind is ProcessEventKind.Fork or ProcessEventKind.Exec or ProcessEventKind.Exit));
    }
}
