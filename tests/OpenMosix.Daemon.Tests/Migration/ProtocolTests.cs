using System.Text;
using OpenMosix.Admin;
using OpenMosix.Cluster.Transport;
using OpenMosix.Daemon.Migration.Protocol;
using OpenMosix.Linux;

namespace OpenMosix.Daemon.Tests.Migration;

public sealed class ProtocolTests
{
    private static readonly MigrationMessage[] OneOfEach =
    [
        new Offer(42, 1000, 1, "counter 5", "6.8.0 #1", 1 << 20, [new FileFingerprint("/bin/true", 123)], "slow", "cpu",
            new byte[Terminal.TermiosSize], new byte[Terminal.WinsizeSize]),
        new Offer(43, 1000, 1, "bash", "6.8.0 #1", 1 << 20, []) { Locked = true, Request = new RunRequest(0, [2, 3], Fallback: true, Home: false, Lock: true, "fast") },
        new Offer(44, 1000, 1, "python3", "6.8.0 #1", 1 << 20, []) { OpenFiles = [new OpenFile(3, "/data/x", 2049, 1234, 4096)] },
        new Accept(), new Accept { Forward = [3, 7] }, new Refuse("blocked"), new PrecopyRound(2), new RoundTaken(), new Final(),
        new Restored(4242, [1, 2], RelaysInput: true), new Restored(4243, [1], RelaysInput: false) { Forwarded = [7, 9] }, new Failed("no memory"), new Commit(), new Abort("changed its mind"),
        new Running(), new ForwardSignal(15), new ForwardSignal(28, new byte[Terminal.WinsizeSize]), new Exited(3, 0),
        new MoveRequest(5, "load", 4096), new MoveFailed("no room"), new ComeHome(), new ComeHome(Precopy: true, Rounds: 4), new ImageFollows(),
        new InputTaken(4096, 100, Ended: true), new WelcomeHome(), new SignalsAfterImage([19, 20, 35]), new Stay("restore failed"),
        new TerminalModesChanged(new byte[Terminal.TermiosSize]), new CopyJobState(true, 19), new CopyJobState(false, 0), new Usage(12.5, 1 << 20), new Usage(1, 2, InputRead: 300), new InputWritten(1 << 20),
        new Commit(CheckpointMs: 20000), new CheckpointFollows(3, Whole: true), new CheckpointStored(3), new CheckpointStored(4, "no space"),
        new CheckpointAsk(5), new CheckpointGo(5), new CheckpointGo(6, "home is moving 1 process out"),
        new CheckpointCounts(3, [new OutputCount(1, 4096), new OutputCount(2, 0)], InputRead: 12),
        new Resume(42, 4242, [new OutputCount(1, 1 << 20)], CheckpointMs: 5000), new Resume(43, 4343, []), new Resumed(300),
        new ForkedThere([new ForkedChild(5001, 42, 1000, 2, 5001, "remote", "spinner 8", 1.5, 1 << 20),
            new ForkedChild(5002, 5001, 1000, 3, 777, "migrating", "spinner 8", 0, 0)]), new ForkedThere([]), new SignalForked(5001, 15),
        new MoveForked(5001, "3"), new MoveForked(5001, "home", Precopy: false),
        new ForkedMoved(5001, Result: new MigrationResult(5001, 2, 3, 4096, 12, 777) { PrecopyRounds = 2, PrecopyBytes = 8192, TotalMs = 40 }),
        new ForkedMoved(5001, Error: "process 5001 cannot move: has children", Refused: true), new Outlived(7, 0), new Outlived(0, 9),
        new PostcopyFinal(), new PagesHeld(64 << 20, 12, 340), new LockChanged(true),
    ];

    [Fact]
    public void Every_message_kind_survives_a_round_trip_with_its_kind_first()
    {
        var kinds = OneOfEach.Select(m => m.GetType()).Distinct().ToList();
        Assert.Equal(typeof(MigrationMessage).Assembly.GetTypes().Count(t => t.IsSubclassOf(typeof(MigrationMessage))), kinds.Count);
        foreach (var message in OneOfEach)
        {
            var wire = MessageWire.Encode(message);
            Assert.StartsWith($"{{\"kind\":\"{MessageWire.KindOf(message.GetType())}\"", Encoding.UTF8.GetString(wire), StringComparison.Ordinal);
            var back = MessageWire.Parse(new Frame(FrameType.Control, wire), 7, message.GetType());
            Assert.IsType(message.GetType(), back);
            Assert.Equal(wire, MessageWire.Encode(back));
        }
    }

    [Theory]
    [InlineData("{\"kind\":\"accept\"", "malformed control message")]
    [InlineData("not json", "malformed control message")]
    [InlineData("{\"kind\":\"teleport\"}", "malformed control message")]
    [InlineData("{\"reason\":\"x\"}", "malformed control message")]
    [InlineData("{\"kind\":\"refuse\"}", "malformed control message")]
    [InlineData("{\"kind\":\"refuse\",\"reason\":null}", "malformed control message")]
    [InlineData("{\"kind\":\"accept\",\"pid\":3}", "malformed control message")]
    [InlineData("{\"kind\":\"commit\"}", "sent 'commit' where accept or refuse was due")]
    [InlineData("{\"kind\":\"signal\",\"signal\":99}", "sent a bad 'signal': signal out of range")]
    [InlineData("{\"kind\":\"terminal-modes\",\"modes\":\"AAAA\"}", "sent a bad 'terminal-modes'")]
    [InlineData("{\"kind\":\"usage\",\"cpuSeconds\":-1,\"residentBytes\":0}", "sent a bad 'usage': usage out of range")]
    [InlineData("{\"kind\":\"input-taken\",\"written\":5,\"unread\":9,\"ended\":false}", "sent a bad 'input-taken': input counts out of range")]
    [InlineData("{\"kind\":\"checkpoint-counts\",\"sequence\":1,\"outputs\":[{\"fd\":1,\"bytes\":-5}],\"inputRead\":0}", "sent a bad 'checkpoint-counts': output counts out of range")]
    [InlineData("{\"kind\":\"checkpoint\",\"sequence\":0,\"whole\":true}", "sent a bad 'checkpoint': checkpoint sequence must be positive")]
    [InlineData("{\"kind\":\"resume\",\"homePid\":0,\"remotePid\":5,\"delivered\":[]}", "sent a bad 'resume': pid must be positive")]
    [InlineData("{\"kind\":\"resume\",\"homePid\":3,\"remotePid\":5,\"delivered\":[{\"fd\":1,\"bytes\":-1}]}", "sent a bad 'resume': output counts out of range")]
    [InlineData("{\"kind\":\"resume\",\"homePid\":3,\"remotePid\":5}", "malformed control message")]
    [InlineData("{\"kind\":\"resumed\",\"inputReceived\":-1}", "sent a bad 'resumed': input count out of range")]
    [InlineData("{\"kind\":\"signal-forked\",\"pid\":0,\"signal\":9}", "sent a bad 'signal-forked': pid must be positive")]
    [InlineData("{\"kind\":\"move-forked\",\"pid\":5,\"target\":\"../3\"}", "sent a bad 'move-forked': target is not a node id, home or balance")]
    [InlineData("{\"kind\":\"move-forked\",\"pid\":5,\"target\":\"123456\"}", "sent a bad 'move-forked': target is not a node id, home or balance")]
    [InlineData("{\"kind\":\"forked-moved\",\"pid\":5}", "sent a bad 'forked-moved': a result or an error, one of them")]
    [InlineData("{\"kind\":\"forked-moved\",\"pid\":5,\"error\":\"two\\nlines\"}", "sent a bad 'forked-moved': error longer than one line")]
    [InlineData("{\"kind\":\"exit-outlived\",\"code\":300,\"signal\":0}", "sent a bad 'exit-outlived': exit status out of range")]
    [InlineData("{\"kind\":\"signal-forked\",\"pid\":5,\"signal\":65}", "sent a bad 'signal-forked': signal out of range")]
    [InlineData("{\"kind\":\"forked\",\"children\":[{\"pid\":5,\"parentPid\":4,\"uid\":0,\"where\":0,\"remotePid\":5,\"state\":\"remote\",\"command\":\"x\",\"cpuSeconds\":0,\"memoryBytes\":0}]}",
        "sent a bad 'forked': a child's fields out of range")]
    [InlineData("{\"kind\":\"forked\",\"children\":[{\"pid\":5,\"parentPid\":4,\"uid\":0,\"where\":2,\"remotePid\":5,\"state\":\"guest\",\"command\":\"x\",\"cpuSeconds\":0,\"memoryBytes\":0}]}",
        "sent a bad 'forked': a child's fields out of range")]
    [InlineData("{\"kind\":\"forked\",\"children\":[{\"pid\":5,\"parentPid\":4,\"uid\":0,\"where\":2,\"remotePid\":5,\"state\":\"remote\",\"command\":\"x\",\"cpuSeconds\":0,\"memoryBytes\":0},{\"pid\":5,\"parentPid\":4,\"uid\":0,\"where\":2,\"remotePid\":5,\"state\":\"remote\",\"command\":\"x\",\"cpuSeconds\":0,\"memoryBytes\":0}]}",
        "sent a bad 'forked': a child listed twice")]
    [InlineData("{\"kind\":\"forked\"}", "malformed control message")]
    [InlineData("{\"kind\":\"pages-held\",\"bytes\":-1,\"faults\":0,\"milliseconds\":0}", "sent a bad 'pages-held': page counts out of range")]
    [InlineData("{\"kind\":\"pages-held\",\"bytes\":4096}", "malformed control message")]
    [InlineData("{\"kind\":\"offer\",\"pid\":5,\"uid\":0,\"homeNode\":1,\"command\":\"x\",\"kernel\":\"k\",\"memoryBytes\":0,\"files\":[],\"request\":{\"on\":0,\"among\":[2,0],\"fallback\":false,\"home\":false,\"lock\":false}}",
        "sent a bad 'offer': a placement wish naming nodes out of range")]
    [InlineData("{\"kind\":\"copy-job\",\"stopped\":false,\"signal\":9}", "sent a bad 'copy-job': a resumption has no signal")]
    [InlineData("{\"kind\":\"copy-job\",\"stopped\":true,\"signal\":0}", "sent a bad 'copy-job': stop signal out of range")]
    public void A_bad_control_message_is_one_line_naming_the_peer(string json, string expected)
    {
        var expectedTypes = json.Contains("commit", StringComparison.Ordinal)
            ? new[] { typeof(Accept), typeof(Refuse) }
            : [typeof(Accept), typeof(Refuse), typeof(ForwardSignal), typeof(TerminalModesChanged), typeof(CopyJobState), typeof(Usage), typeof(InputTaken),
                typeof(CheckpointCounts), typeof(CheckpointFollows), typeof(Resume), typeof(Resumed), typeof(ForkedThere), typeof(SignalForked),
                typeof(MoveForked), typeof(ForkedMoved), typeof(Outlived), typeof(PagesHeld), typeof(Offer)];
        var error = Assert.Throws<LinkException>(() => MessageWire.Parse(new Frame(FrameType.Control, Encoding.UTF8.GetBytes(json)), 7, expectedTypes));
        Assert.StartsWith("node 7 ", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Another_frame_type_where_a_message_was_due_is_a_protocol_error()
    {
        var error = Assert.Throws<LinkException>(() => MessageWire.Parse(new Frame(FrameType.Stdio, [1, 2]), 3, typeof(Running)));
        Assert.Equal("node 3 sent a Stdio frame where running was due", error.Message);
    }

    [Fact]
    public void An_oversized_message_is_neither_sent_nor_read()
    {
        var huge = new Refuse(new string('x', MessageWire.MaxBytes));
        Assert.Contains("over the limit", Assert.Throws<LinkException>(() => MessageWire.Encode(huge)).Message, StringComparison.Ordinal);
        var payload = Encoding.UTF8.GetBytes($"{{\"kind\":\"refuse\",\"reason\":\"{huge.Reason}\"}}");
        var error = Assert.Throws<LinkException>(() => MessageWire.Parse(new Frame(FrameType.Control, payload), 3, typeof(Refuse)));
        Assert.Contains($"at most {MessageWire.MaxBytes}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_offer_with_fields_out_of_range_is_refused_as_bad()
    {
        var offer = (Offer)OneOfEach[0] with { HomeNode = 70000 };
        var error = Assert.Throws<LinkException>(() => MessageWire.Parse(new Frame(FrameType.Control, MessageWire.Encode(offer)), 3, typeof(Offer)));
        Assert.Equal("node 3 sent a bad 'offer': home node out of range", error.Message);
    }
}
