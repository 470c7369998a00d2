using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Tests.Migration;

public sealed class MigrationStepsTests
{
    [Fact]
    public void A_migration_with_pre_copy_runs_offer_to_relay_then_goes_home()
    {
        Walk(MigrationPhase.Start,
                 [
                     (Side.Home, typeof(Offer), MigrationPhase.Offered),
                     (Side.Guest, typeof(Accept), MigrationPhase.Accepted),
                     (Side.Home, typeof(PrecopyRound), MigrationPhase.Precopying),
                     (Side.Guest, typeof(RoundTaken), MigrationPhase.Accepted),
                     (Side.Home, typeof(Final), MigrationPhase.Final),
                     (Side.Guest, typeof(Restored), MigrationPhase.Restored),
                     (Side.Home, typeof(Commit), MigrationPhase.Committed),
                     (Side.Guest, typeof(Running), MigrationPhase.Relaying),
                     (Side.Home, typeof(ForwardSignal), MigrationPhase.Relaying),
                     (Side.Home, typeof(LockChanged), MigrationPhase.Relaying),
                     (Side.Guest, typeof(MoveRequest), MigrationPhase.Relaying),
                     (Side.Home, typeof(ComeHome), MigrationPhase.Relaying),
                     (Side.Guest, typeof(ImageFollows), MigrationPhase.Returning),
                     (Side.Home, typeof(Stay), MigrationPhase.Relaying),
                     (Side.Guest, typeof(ImageFollows), MigrationPhase.Returning),
                     (Side.Home, typeof(WelcomeHome), MigrationPhase.Ended),
                 ]);
    }

    [Fact]
    public void A_post_copied_move_says_so_in_place_of_final_and_the_copy_tells_home_once_it_holds_every_page()
    {
        Walk(MigrationPhase.Start,
                 [
                     (Side.Home, typeof(Offer), MigrationPhase.Offered),
                     (Side.Guest, typeof(Accept), MigrationPhase.Accepted),
                     (Side.Home, typeof(PostcopyFinal), MigrationPhase.Final),
                     (Side.Guest, typeof(Restored), MigrationPhase.Restored),
                     (Side.Home, typeof(Commit), MigrationPhase.Committed),
                     (Side.Guest, typeof(Running), MigrationPhase.Relaying),
                     (Side.Guest, typeof(Usage), MigrationPhase.Relaying),
                     (Side.Guest, typeof(PagesHeld), MigrationPhase.Relaying),
                     (Side.Guest, typeof(Exited), MigrationPhase.Ended),
                 ]);
        // Pages are held only once the copy runs, and only the copy's node says so.
        Assert.Null(MigrationSteps.After(MigrationPhase.Restored, Side.Guest, typeof(PagesHeld)));
        Assert.Null(MigrationSteps.After(MigrationPhase.Relaying, Side.Home, typeof(PagesHeld)));
        Assert.Null(MigrationSteps.After(MigrationPhase.Relaying, Side.Home, typeof(PostcopyFinal)));
    }

    [Fact]
    public void A_pre_copied_trip_home_sends_rounds_while_relaying_and_ends_with_the_image_and_the_input_count()
    {
        Walk(MigrationPhase.Relaying,
                 [
                     (Side.Home, typeof(ComeHome), MigrationPhase.Relaying),
                     (Side.Guest, typeof(PrecopyRound), MigrationPhase.ReturnPrecopying),
                     (Side.Home, typeof(RoundTaken), MigrationPhase.Relaying),
                     (Side.Guest, typeof(TerminalModesChanged), MigrationPhase.Relaying),
                     (Side.Guest, typeof(PrecopyRound), MigrationPhase.ReturnPrecopying),
                     (Side.Home, typeof(RoundTaken), MigrationPhase.Relaying),
                     (Side.Guest, typeof(ImageFollows), MigrationPhase.Returning),
                     (Side.Guest, typeof(InputTaken), MigrationPhase.Returning),
                     (Side.Home, typeof(WelcomeHome), MigrationPhase.Ended),
                 ]);
    }

    [Fact]
    public void After_the_welcome_home_the_copys_node_may_send_only_the_signals_its_frozen_copy_got_after_its_image()
    {
        Assert.Equal([typeof(SignalsAfterImage)], MigrationSteps.Allowed(MigrationPhase.Ended, Side.Guest));
        Assert.Equal(MigrationPhase.Ended, MigrationSteps.After(MigrationPhase.Ended, Side.Guest, typeof(SignalsAfterImage)));
        Assert.Null(MigrationSteps.After(MigrationPhase.Relaying, Side.Guest, typeof(SignalsAfterImage)));
        Assert.Null(new SignalsAfterImage([19, 20, 64]).Problem());
        Assert.NotNull(new SignalsAfterImage([]).Problem());
        Assert.NotNull(new SignalsAfterImage([0]).Problem());
        Assert.NotNull(new SignalsAfterImage([65]).Problem());
    }

    [Fact]
    public void While_a_round_travels_home_only_home_speaks_and_a_stay_ends_the_trip()
    {
        // Besides, the answers to a checkpoint sent before home asked for the process, which change nothing there.
        Assert.Equal([typeof(RoundTaken), typeof(Stay), typeof(CheckpointStored), typeof(CheckpointGo)], MigrationSteps.Allowed(MigrationPhase.ReturnPrecopying, Side.Home));
        Assert.Empty(MigrationSteps.Allowed(MigrationPhase.ReturnPrecopying, Side.Guest));
        Assert.Equal(MigrationPhase.Relaying, MigrationSteps.After(MigrationPhase.ReturnPrecopying, Side.Home, typeof(Stay)));
        Assert.Null(MigrationSteps.After(MigrationPhase.Relaying, Side.Home, typeof(PrecopyRound)));
    }

    [Fact]
    public void A_checkpoint_travels_home_while_relaying_and_leaves_the_phase_as_it_was()
    {
        Walk(MigrationPhase.Relaying, [
            (Side.Guest, typeof(CheckpointAsk), MigrationPhase.Relaying),
            (Side.Home, typeof(CheckpointGo), MigrationPhase.Relaying),
            (Side.Guest, typeof(CheckpointFollows), MigrationPhase.Relaying),
            (Side.Guest, typeof(Usage), MigrationPhase.Relaying),
            (Side.Guest, typeof(CheckpointCounts), MigrationPhase.Relaying),
            (Side.Home, typeof(CheckpointStored), MigrationPhase.Relaying),
        ]);
        Assert.Null(MigrationSteps.After(MigrationPhase.Returning, Side.Guest, typeof(CheckpointFollows)));
        Assert.Equal(MigrationPhase.ReturnPrecopying, MigrationSteps.After(MigrationPhase.ReturnPrecopying, Side.Home, typeof(CheckpointStored)));
    }

    [Fact]
    public void A_copy_reports_its_forks_and_home_signals_them_only_while_relaying()
    {
        Walk(MigrationPhase.Relaying, [
            (Side.Guest, typeof(Usage), MigrationPhase.Relaying),
            (Side.Guest, typeof(ForkedThere), MigrationPhase.Relaying),
            (Side.Home, typeof(SignalForked), MigrationPhase.Relaying),
            (Side.Guest, typeof(ForkedThere), MigrationPhase.Relaying),
        ]);
        // The copy's image going home: no report may come between its frames, no signal meet it frozen.
        Assert.Null(MigrationSteps.After(MigrationPhase.Returning, Side.Guest, typeof(ForkedThere)));
        Assert.Null(MigrationSteps.After(MigrationPhase.ReturnPrecopying, Side.Guest, typeof(ForkedThere)));
        Assert.Null(MigrationSteps.After(MigrationPhase.Returning, Side.Home, typeof(SignalForked)));
        Assert.Null(MigrationSteps.After(MigrationPhase.Offered, Side.Guest, typeof(ForkedThere)));
    }

    [Fact]
    public void Home_moves_what_a_copy_forked_while_relaying_and_after_the_copy_ended_while_its_forks_outlive_it()
    {
        Walk(MigrationPhase.Relaying, [
            (Side.Home, typeof(MoveForked), MigrationPhase.Relaying),
            (Side.Guest, typeof(Usage), MigrationPhase.Relaying),
            (Side.Guest, typeof(ForkedMoved), MigrationPhase.Relaying),
            (Side.Guest, typeof(Outlived), MigrationPhase.Outliving),
            (Side.Guest, typeof(ForkedThere), MigrationPhase.Outliving),
            (Side.Home, typeof(SignalForked), MigrationPhase.Outliving),
            (Side.Home, typeof(MoveForked), MigrationPhase.Outliving),
            (Side.Guest, typeof(ForkedMoved), MigrationPhase.Outliving),
            (Side.Guest, typeof(ForkedThere), MigrationPhase.Outliving),
        ]);
        // The copy is gone: nothing of it travels any more, only what it forked.
        Assert.Equal([typeof(ForkedThere), typeof(ForkedMoved)], MigrationSteps.Allowed(MigrationPhase.Outliving, Side.Guest));
        Assert.Equal([typeof(SignalForked), typeof(MoveForked)], MigrationSteps.Allowed(MigrationPhase.Outliving, Side.Home));
        Assert.Null(MigrationSteps.After(MigrationPhase.Returning, Side.Home, typeof(MoveForked)));
        Assert.Null(MigrationSteps.After(MigrationPhase.ReturnPrecopying, Side.Guest, typeof(ForkedMoved)));
        Assert.Null(MigrationSteps.After(MigrationPhase.Ended, Side.Guest, typeof(ForkedThere)));
    }

    [Fact]
    public void A_takeover_of_home_resumes_straight_into_relaying_or_ends_refused()
    {
        Walk(MigrationPhase.Start, [
            (Side.Home, typeof(Resume), MigrationPhase.Resuming),
            (Side.Guest, typeof(Resumed), MigrationPhase.Relaying),
            (Side.Guest, typeof(Usage), MigrationPhase.Relaying),
        ]);
        Assert.Equal(MigrationPhase.Ended, MigrationSteps.After(MigrationPhase.Resuming, Side.Guest, typeof(Refuse)));
        Assert.Null(MigrationSteps.After(MigrationPhase.Relaying, Side.Home, typeof(Resume)));
        Assert.Null(MigrationSteps.After(MigrationPhase.Start, Side.Guest, typeof(Resumed)));
    }

    /// <summary>Each message in turn from <paramref name="phase"/>, checking the phase after it.</summary>
    private static void Walk(MigrationPhase phase, (Side Sender, Type Message, MigrationPhase Expected)[] steps)
    {
        foreach (var (sender, message, expected) in steps)
        {
            phase = MigrationSteps.After(phase, sender, message) ?? throw new Xunit.Sdk.XunitException($"{message.Name} refused in {phase}");
            Assert.Equal(expected, phase);
        }
    }

    [Fact]
    public void Only_the_answers_of_a_step_are_expected_from_the_other_end()
    {
        Assert.Equal([typeof(Accept), typeof(Refuse)], MigrationSteps.Allowed(MigrationPhase.Offered, Side.Guest));
        Assert.Equal([typeof(Restored), typeof(Failed)], MigrationSteps.Allowed(MigrationPhase.Final, Side.Guest));
        Assert.Equal([typeof(WelcomeHome), typeof(Stay), typeof(CheckpointStored), typeof(CheckpointGo)], MigrationSteps.Allowed(MigrationPhase.Returning, Side.Home));
        Assert.Empty(MigrationSteps.Allowed(MigrationPhase.Ended, Side.Home));
        Assert.Null(MigrationSteps.After(MigrationPhase.Offered, Side.Home, typeof(Commit)));
        Assert.Null(MigrationSteps.After(MigrationPhase.Relaying, Side.Home, typeof(Exited)));
    }

    [Fact]
    public async Task Heartbeats_between_the_steps_of_every_phase_are_never_taken_for_a_message()
    {
        var (homeLink, guestLink) = await LinkPairs.ConnectAsync(new OpenMosix.Cluster.Transport.LinkLiveness(TimeSpan.FromMilliseconds(20), TimeSpan.FromSeconds(30)));
        await using (homeLink)
        await using (guestLink)
        {
            var home = new Conversation(homeLink, Side.Home);
            var guest = new Conversation(guestLink, Side.Guest);
            foreach (var message in new MigrationMessage[]
                     {
                         new Offer(10, 1000, 1, "sleep", "6.1", 0, []), new Accept(), new PrecopyRound(1), new RoundTaken(), new Final(),
                         new Restored(20, [1], false), new Commit(), new Running(), new ForwardSignal(15), new Usage(1, 2),
                         new ComeHome(), new ImageFollows(), new WelcomeHome(),
                     })
            {
                var (from, to) = MigrationSteps.Allowed(home.Phase, Side.Home).Contains(message.GetType()) ? (home, guest) : (guest, home);
                await from.SendAsync(message, TestContext.Current.CancellationToken);
                // A heartbeat follows the message before the other end reads it.
                var beats = from.Link.HeartbeatsSent;
                OpenMosix.TestSupport.Poll.Until(() => from.Link.HeartbeatsSent > beats, TimeSpan.FromSeconds(10), "a heartbeat");
                Assert.Equal(MessageWire.Encode(message), MessageWire.Encode(await to.ReceiveAsync(TimeSpan.FromSeconds(10))));
                Assert.Equal(from.Phase, to.Phase);
            }
            Assert.Equal(MigrationPhase.Ended, home.Phase);
        }
    }

    [Fact]
    public async Task Sending_out_of_turn_is_refused_before_anything_goes_out()
    {
        var (home, guest) = await LinkPairs.ConnectAsync();
        await using (home)
        await using (guest)
        {
            var talk = new Conversation(guest, Side.Guest, MigrationPhase.Returning);
            var error = await Assert.ThrowsAsync<OpenMosix.Cluster.Transport.LinkException>(() => talk.SendAsync(new MoveRequest(3, "load", 0), TestContext.Current.CancellationToken));
            Assert.Equal("'move' cannot be sent while the migration is returning", error.Message);
            Assert.Equal(MigrationPhase.Returning, talk.Phase);
        }
    }
}
