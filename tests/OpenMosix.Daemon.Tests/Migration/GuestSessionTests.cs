using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using OpenMosix.Cluster.Transport;
using OpenMosix.Daemon.Migration;
using OpenMosix.Daemon.Migration.Protocol;
using OpenMosix.Daemon.Processes;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Migration;

/// <summary>A guest session driven over a real link pair on loopback, the test speaking for home.</summary>
public sealed class GuestSessionTests
{
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(20);

    private static StopGate Gate(bool closed)
    {
        var gate = new StopGate();
        if (closed) gate.Close();
        return gate;
    }

    private static Offer OfferOf(long memory = 1 << 20, IReadOnlyList<FileFingerprint>? files = null)
    {
        var uname = SystemInfo.Uname();
        return new Offer(42, 1000, 1, "sleep 30", $"{uname.Release} {uname.Version}", memory, files ?? [],
            Owner: new ProcessOwner(1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, [1000], false));
    }

    [Theory]
    [InlineData("blocked", "this node is blocked")]
    [InlineData("stopping", "omd on this node is stopping: it takes no processes")]
    [InlineData("memory", "not enough memory: the process needs 100 MiB, this node has 1 MiB free")]
    [InlineData("file", "differs on this node (4 bytes, 5 at home)")]
    public async Task A_guest_refuses_an_offer_it_cannot_take(string why, string expected)
    {
        using var dir = new TempDirectory();
        var file = dir.File("lib.so");
        await File.WriteAllTextAsync(file, "1234", TestContext.Current.CancellationToken);
        var (home, guest) = await LinkPairs.ConnectAsync();
        await using (home)
        await using (guest)
        {
            var engine = new FakeMigrationEngine();
            var session = new GuestSession(guest, engine, new ProcessRegistry(2), () => 1 << 20, NullLogger.Instance) { Blocked = () => why == "blocked", Gate = Gate(closed: why == "stopping") };
            var run = session.RunAsync(TestContext.Current.CancellationToken);
            await MessageWire.SendAsync(home, why switch
            {
                "memory" => OfferOf(memory: 100 << 20),
                "file" => OfferOf(files: [new FileFingerprint(file, 5)]),
                _ => OfferOf(),
            }, TestContext.Current.CancellationToken);
            var refuse = await MessageWire.ReceiveAsync<Refuse>(home, Answer);
            Assert.Contains(expected, refuse.Reason, StringComparison.Ordinal);
            await run;
            Assert.Equal(MigrationPhase.Ended, session.Phase);
            Assert.Empty(engine.Calls);
        }
    }

    [Fact]
    public async Task A_root_process_is_refused_at_its_offer_by_default()
    {
        var (home, guest) = await LinkPairs.ConnectAsync();
        await using (home)
        await using (guest)
        {
            var engine = new FakeMigrationEngine();
            var run = new GuestSession(guest, engine, new ProcessRegistry(2), () => 1UL << 30, NullLogger.Instance).RunAsync(TestContext.Current.CancellationToken);
            await MessageWire.SendAsync(home, OfferOf() with { Uid = 0, Owner = new ProcessOwner(0, 0, 0, 0, 0, 0, 0, 0, [], true) }, TestContext.Current.CancellationToken);
            var refuse = await MessageWire.ReceiveAsync<Refuse>(home, Answer);
            Assert.Contains("this node takes root processes only with migration.allow_root_guests = true", refuse.Reason, StringComparison.Ordinal);
            await run;
            Assert.Empty(engine.Calls);
        }
    }

    [Fact]
    public async Task An_image_claiming_uid_0_from_an_offer_of_uid_1000_is_refused_and_home_told_why()
    {
        var (home, guest) = await LinkPairs.ConnectAsync();
        await using (home)
        await using (guest)
        {
            var engine = new FakeMigrationEngine { ImageMetadata = GuestPolicyTests.ImageOf(0) };
            var run = new GuestSession(guest, engine, new ProcessRegistry(2), () => 1UL << 30, NullLogger.Instance).RunAsync(TestContext.Current.CancellationToken);
            await SendOfferAndImageAsync(home);
            var failed = await MessageWire.ReceiveAsync<Failed>(home, Answer);
            Assert.StartsWith("refused: the image's credentials (uid 0/0/0/0", failed.Reason, StringComparison.Ordinal);
            await run;
            Assert.Equal(["abandon"], engine.Calls);
        }
    }

    [Fact]
    public async Task A_failed_restore_is_reported_home_and_nothing_runs()
    {
        var (home, guest) = await LinkPairs.ConnectAsync();
        await using (home)
        await using (guest)
        {
            var engine = new FakeMigrationEngine { RestoreFails = "no such library" };
            var run = new GuestSession(guest, engine, new ProcessRegistry(2), () => 1UL << 30, NullLogger.Instance).RunAsync(TestContext.Current.CancellationToken);
            await SendOfferAndImageAsync(home);
            var failed = await MessageWire.ReceiveAsync<Failed>(home, Answer);
            Assert.Equal("no such library", failed.Reason);
            await run;
            Assert.Equal(["abandon"], engine.Calls);
        }
    }

    [Fact]
    public async Task A_committed_guest_runs_reports_its_exit_and_leaves_the_registry()
    {
        using var copy = ChildProcess.Start("/bin/sh", ["-c", "exit 3"]);
        var (home, guest) = await LinkPairs.ConnectAsync();
        await using (home)
        await using (guest)
        {
            var engine = new FakeMigrationEngine { Copy = copy };
            var registry = new ProcessRegistry(2);
            var run = new GuestSession(guest, engine, registry, () => 1UL << 30, NullLogger.Instance).RunAsync(TestContext.Current.CancellationToken);
            await CommitAsync(home);
            var exited = await MessageWire.ReceiveAsync<Exited>(home, Answer);
            Assert.Equal(new Exited(3, 0), exited);
            await run;
            Assert.Equal(["restore", $"thaw {copy.Pid}"], engine.Calls);
            Assert.Empty(registry.Guests());
        }
    }

    [Fact]
    public async Task A_guest_whose_checkpoints_cannot_start_runs_on_keeps_trying_and_still_reports_its_exit()
    {
        // Seen in the lab: one periodic checkpoint that failed before it began ended the checkpoints with an
        // exception the relay then rethrew at the exit, so the exit status never went home and home gave the process
        // up for lost.
        using var copy = ChildProcess.Start("/bin/sh", ["-c", "sleep 1; exit 3"]);
        var (home, guest) = await LinkPairs.ConnectAsync();
        await using (home)
        await using (guest)
        {
            var engine = new FakeMigrationEngine { Copy = copy, TracksWrites = true, StartPrecopyFails = int.MaxValue };
            var run = new GuestSession(guest, engine, new ProcessRegistry(2), () => 1UL << 30, NullLogger.Instance).RunAsync(TestContext.Current.CancellationToken);
            await CommitAsync(home, checkpointMs: 50);
            // Home says go to every checkpoint the guest asks for, so each one reaches the pre-copy that fails.
            var asked = 0;
            MigrationMessage message;
            // The guest also reports its CPU use every second meanwhile.
            while ((message = await MessageWire.ReceiveAsync(home, Answer, typeof(CheckpointAsk), typeof(Usage), typeof(Exited))) is not Exited)
            {
                if (message is not CheckpointAsk ask) continue;
                asked++;
                await MessageWire.SendAsync(home, new CheckpointGo(ask.Sequence), TestContext.Current.CancellationToken);
            }
            Assert.Equal(new Exited(3, 0), message);
            Assert.True(asked >= 2, $"{asked} checkpoints asked for");
            await run;
            Assert.True(engine.Calls.Count(c => c == $"precopy-refused {copy.Pid}") >= 2, string.Join(", ", engine.Calls));
        }
    }

    [Fact]
    public async Task A_move_home_could_not_make_reaches_the_caller_of_RequestMoveAsync()
    {
        using var copy = ChildProcess.Start("/bin/sleep", ["30"]);
        var (home, guest) = await LinkPairs.ConnectAsync();
        await using (home)
        await using (guest)
        {
            var engine = new FakeMigrationEngine { Copy = copy };
            var session = new GuestSession(guest, engine, new ProcessRegistry(2), () => 1UL << 30, NullLogger.Instance);
            var run = session.RunAsync(TestContext.Current.CancellationToken);
            await CommitAsync(home);

            var request = session.RequestMoveAsync(copy.Pid, 5, "load");
            var asked = await MessageWire.ReceiveAsync<MoveRequest>(home, Answer);
            Assert.Equal((5, "load"), (asked.Target, asked.Reason));
            Assert.Equal("a move of it is already under way", await session.RequestMoveAsync(copy.Pid, 5, "again"));
            await MessageWire.SendAsync(home, new MoveFailed("node 5 is full"), TestContext.Current.CancellationToken);
            Assert.Equal("node 5 is full", await request);

            // Home goes away: the guest must not live on alone.
            home.Dispose();
            await run;
            Assert.Equal(Signals.SIGKILL, copy.WaitForExit(Answer).Signal);
        }
    }

    [Fact]
    public async Task A_guest_whose_checkpoint_fails_on_its_way_home_ends_the_image_and_runs_on_when_home_says_stay()
    {
        using var copy = ChildProcess.Start("/bin/sleep", ["30"]);
        var (home, guest) = await LinkPairs.ConnectAsync();
        await using (home)
        await using (guest)
        {
            var engine = new FakeMigrationEngine { Copy = copy };
            var run = new GuestSession(guest, engine, new ProcessRegistry(2), () => 1UL << 30, NullLogger.Instance).RunAsync(TestContext.Current.CancellationToken);
            await CommitAsync(home);
            engine.CheckpointFails = "injected failure";

            await MessageWire.SendAsync(home, new ComeHome(), TestContext.Current.CancellationToken);
            await MessageWire.ReceiveAsync<ImageFollows>(home, Answer);
            // The image ends though it is incomplete, so that what follows is read as messages again.
            Frame? frame;
            do frame = await home.ReceiveAsync(TestContext.Current.CancellationToken).WaitAsync(Answer, TestContext.Current.CancellationToken);
            while (frame is { Type: FrameType.Image });
            Assert.Equal(FrameType.ImageEnd, frame?.Type);
            Assert.Equal(new InputTaken(0, 0, false), await MessageWire.ReceiveAsync<InputTaken>(home, Answer));
            await MessageWire.SendAsync(home, new Stay("truncated image"), TestContext.Current.CancellationToken);

            // It still relays: a signal from home reaches it, and its end reaches home.
            await MessageWire.SendAsync(home, new ForwardSignal(Signals.SIGTERM), TestContext.Current.CancellationToken);
            Assert.Equal(new Exited(0, Signals.SIGTERM), await MessageWire.ReceiveAsync<Exited>(home, Answer));
            await run;
            Assert.Equal(["restore", $"thaw {copy.Pid}", $"checkpoint-failed {copy.Pid}"], engine.Calls);
        }
    }

    [Fact]
    public async Task A_guest_asked_home_with_pre_copy_sends_a_round_while_it_runs_then_freezes_for_the_rest()
    {
        using var copy = ChildProcess.Start("/bin/sleep", ["30"]);
        var (home, guest) = await LinkPairs.ConnectAsync();
        await using (home)
        await using (guest)
        {
            var (engine, run) = await PrecopyingHomeAsync(guest, home, copy);
            Assert.Equal("round", Encoding.ASCII.GetString(await ReadImageAsync(home)));
            Assert.DoesNotContain($"checkpoint {copy.Pid}", engine.Calls);
            await MessageWire.SendAsync(home, new RoundTaken(), TestContext.Current.CancellationToken);
            await MessageWire.ReceiveAsync<ImageFollows>(home, Answer);
            Assert.Equal("image", Encoding.ASCII.GetString(await ReadImageAsync(home)));
            await MessageWire.ReceiveAsync<InputTaken>(home, Answer);
            await MessageWire.SendAsync(home, new WelcomeHome(), TestContext.Current.CancellationToken);
            await run;
            Assert.Equal(["restore", $"thaw {copy.Pid}", $"round 1 of {copy.Pid}", $"checkpoint {copy.Pid}", $"rounds done {copy.Pid}", $"kill-frozen {copy.Pid}"], engine.Calls);
        }
    }

    [Fact]
    public async Task A_guest_whose_round_home_refuses_runs_on_where_it_is_never_frozen()
    {
        using var copy = ChildProcess.Start("/bin/sleep", ["30"]);
        var (home, guest) = await LinkPairs.ConnectAsync();
        await using (home)
        await using (guest)
        {
            var (engine, run) = await PrecopyingHomeAsync(guest, home, copy);
            await ReadImageAsync(home);
            await MessageWire.SendAsync(home, new Stay("no room at home"), TestContext.Current.CancellationToken);

            // It still relays: a signal from home reaches it, and its end reaches home.
            await MessageWire.SendAsync(home, new ForwardSignal(Signals.SIGTERM), TestContext.Current.CancellationToken);
            Assert.Equal(new Exited(0, Signals.SIGTERM), await MessageWire.ReceiveAsync<Exited>(home, Answer));
            await run;
            Assert.Equal(["restore", $"thaw {copy.Pid}", $"round 1 of {copy.Pid}", $"rounds done {copy.Pid}"], engine.Calls);
        }
    }

    /// <summary>A guest relaying <paramref name="copy"/> on a kernel that tracks writes, asked home with pre-copy: its
    /// first round has begun (the round's image is next on the link).</summary>
    private static async Task<(FakeMigrationEngine Engine, Task Run)> PrecopyingHomeAsync(NodeLink guest, NodeLink home, ChildProcess copy)
    {
        var engine = new FakeMigrationEngine { Copy = copy, TracksWrites = true };
        var run = new GuestSession(guest, engine, new ProcessRegistry(2), () => 1UL << 30, NullLogger.Instance).RunAsync(TestContext.Current.CancellationToken);
        await CommitAsync(home);
        await MessageWire.SendAsync(home, new ComeHome(Precopy: true, Rounds: 4), TestContext.Current.CancellationToken);
        Assert.Equal(new PrecopyRound(1), await MessageWire.ReceiveAsync<PrecopyRound>(home, Answer));
        return (engine, run);
    }

    /// <summary>One image off the link, up to its end marker.</summary>
    private static async Task<byte[]> ReadImageAsync(NodeLink home)
    {
        var image = new List<byte>();
        while (await home.ReceiveAsync(TestContext.Current.CancellationToken).WaitAsync(Answer, TestContext.Current.CancellationToken) is { Type: FrameType.Image } frame)
            image.AddRange(frame.Payload);
        return [.. image];
    }

    private static async Task SendOfferAndImageAsync(NodeLink home)
    {
        await MessageWire.SendAsync(home, OfferOf(), TestContext.Current.CancellationToken);
        await MessageWire.ReceiveAsync<Accept>(home, Answer);
        await MessageWire.SendAsync(home, new Final(), TestContext.Current.CancellationToken);
        await home.SendAsync(FrameType.Image, "image"u8.ToArray(), TestContext.Current.CancellationToken);
        await home.SendAsync(FrameType.ImageEnd, ReadOnlyMemory<byte>.Empty, TestContext.Current.CancellationToken);
    }

    private static async Task CommitAsync(NodeLink home, int checkpointMs = 0)
    {
        await SendOfferAndImageAsync(home);
        await MessageWire.ReceiveAsync<Restored>(home, Answer);
        await MessageWire.SendAsync(home, new Commit(checkpointMs), TestContext.Current.CancellationToken);
        await MessageWire.ReceiveAsync<Running>(home, Answer);
    }
}
