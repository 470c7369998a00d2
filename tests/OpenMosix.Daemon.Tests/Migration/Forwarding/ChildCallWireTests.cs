using System.Buffers.Binary;
using OpenMosix.Daemon.Migration.Forwarding;

namespace OpenMosix.Daemon.Tests.Migration.Forwarding;

public sealed class ChildCallWireTests
{
    [Fact]
    public void A_wait_with_its_options_and_a_signal_with_its_siginfo_survive_a_round_trip_and_pass_the_checks()
    {
        var wait = new ForwardRequest(3, ForwardOp.Wait, 0, -1, ChildCallWire.WNoHang | ChildCallWire.WUntraced);
        var queued = new ForwardRequest(4, ForwardOp.QueueSignal, 0, 4321, 10) { Data = new byte[ChildCallWire.SigInfoBytes] };
        foreach (var sent in new[] { wait, queued })
        {
            var got = ForwardWire.DecodeRequest(ForwardWire.Encode(sent));
            Assert.Equal((sent.Op, sent.A0, sent.A1, sent.Data.Length), (got.Op, got.A0, got.A1, got.Data.Length));
            Assert.Null(ChildCallWire.Problem(got));
        }
        Assert.True(ChildCallWire.IsChildCall(ForwardOp.ParentPid));
        Assert.False(ChildCallWire.IsChildCall(ForwardOp.Read));
    }

    private static readonly Dictionary<string, ForwardRequest> BadCallsByProblem = new()
    {
        { "names a descriptor", new ForwardRequest(1, ForwardOp.Kill, 5, 100, 9) },
        { "sends signal 65", new ForwardRequest(1, ForwardOp.Kill, 0, 100, 65) },
        { "sends signal 0", new ForwardRequest(1, ForwardOp.QueueSignal, 0, 100, 0) { Data = new byte[ChildCallWire.SigInfoBytes] } },
        { "a siginfo of 12 bytes", new ForwardRequest(1, ForwardOp.QueueSignal, 0, 100, 10) { Data = new byte[12] } },
        { "unknown options 0x10", new ForwardRequest(1, ForwardOp.Wait, 0, -1, 0x10) },
        { "id type 3", new ForwardRequest(1, ForwardOp.WaitId, 0, 3, 5, ChildCallWire.WExited) },
        { "names process", new ForwardRequest(1, ForwardOp.ThreadKill, 0, 1L << 40, 5, 9) },
        { "carries 4 bytes of data", new ForwardRequest(1, ForwardOp.Wait, 0, -1, 0) { Data = new byte[4] } },
        { "an argument it does not take", new ForwardRequest(1, ForwardOp.ParentPid, 0, 1) },
        { "cancel of call -1", new ForwardRequest(1, ForwardOp.Cancel, 0, -1) },
        { "not a call about children", new ForwardRequest(1, ForwardOp.Read, 0) },
    };

    public static TheoryData<string> BadCalls => [.. BadCallsByProblem.Keys];

    [Theory]
    [MemberData(nameof(BadCalls))]
    public void A_bad_call_about_children_is_refused_in_one_line_saying_what_is_wrong(string problem)
    {
        var said = ChildCallWire.Problem(BadCallsByProblem[problem]);
        Assert.NotNull(said);
        Assert.Contains(problem, said, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', said);
    }

    [Fact]
    public void A_wait_result_carries_the_childs_pid_status_and_usage_and_nothing_found_carries_nothing()
    {
        var data = new byte[ChildCallWire.WaitReplyBytes];
        BinaryPrimitives.WriteInt32LittleEndian(data, 5_000_000); // a PID past the bound of a result that carries data
        var found = ForwardWire.DecodeReply(ForwardWire.Encode(new ForwardReply(2, 1) { Data = data }));
        Assert.Null(ChildCallWire.Problem(ForwardOp.Wait, found));
        Assert.Null(ChildCallWire.Problem(ForwardOp.Wait, new ForwardReply(2, 0)));
        Assert.Null(ChildCallWire.Problem(ForwardOp.Wait, new ForwardReply(2, -10)));
        Assert.Null(ChildCallWire.Problem(ForwardOp.WaitId, new ForwardReply(2, 0) { Data = new byte[ChildCallWire.WaitIdReplyBytes] }));
        Assert.Null(ChildCallWire.Problem(ForwardOp.ParentPid, new ForwardReply(2, 1234)));
    }

    private static readonly Dictionary<string, (ForwardOp Op, ForwardReply Reply)> BadRepliesByProblem = new()
    {
        { "carries 3 bytes, not 152", (ForwardOp.Wait, new ForwardReply(1, 1) { Data = new byte[3] }) },
        { "found process 0", (ForwardOp.Wait, new ForwardReply(1, 1) { Data = new byte[ChildCallWire.WaitReplyBytes] }) },
        { "returned 77", (ForwardOp.Wait, new ForwardReply(1, 77) { Data = new byte[ChildCallWire.WaitReplyBytes] }) },
        { "a failed forwarded WaitId carries data", (ForwardOp.WaitId, new ForwardReply(1, -10) { Data = new byte[8] }) },
        { "returned 1", (ForwardOp.Kill, new ForwardReply(1, 1)) },
        { "carries extra bytes", (ForwardOp.ParentPid, new ForwardReply(1, 1) { Extra = new byte[2] }) },
    };

    public static TheoryData<string> BadReplies => [.. BadRepliesByProblem.Keys];

    [Theory]
    [MemberData(nameof(BadReplies))]
    public void A_bad_result_of_a_call_about_children_is_refused_in_one_line(string problem)
    {
        var (op, reply) = BadRepliesByProblem[problem];
        var said = ChildCallWire.Problem(op, reply);
        Assert.NotNull(said);
        Assert.Contains(problem, said, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', said);
    }
}
