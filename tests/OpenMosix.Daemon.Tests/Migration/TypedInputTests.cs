using OpenMosix.Daemon.Migration.Home;
using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Tests.Migration;

/// <summary>
/// Home's count of what its relay sent a moved job's terminal: what was sent past the count the job's node took in all
/// was on the link when the job ended, and is what home puts back after the bytes the job left unread.
/// </summary>
public sealed class TypedInputTests
{
    [Fact]
    public void What_was_sent_past_the_nodes_count_is_given_in_order()
    {
        var typed = new TypedInput();
        typed.Record("ls\n"u8);
        typed.Record("echo a\n"u8);
        typed.Record("pwd\n"u8);
        Assert.Equal(14, typed.Sent);
        Assert.Equal("echo a\npwd\n"u8.ToArray(), typed.After(3));
        Assert.Equal("d\n"u8.ToArray(), typed.After(12));
        Assert.Empty(typed.After(14));
    }

    [Fact]
    public void A_count_past_what_was_sent_or_unknown_gives_nothing()
    {
        var typed = new TypedInput();
        typed.Record("ls\n"u8);
        Assert.Empty(typed.After(4));
        Assert.Empty(typed.After(-1));
    }

    [Fact]
    public void Only_the_last_kept_bytes_are_given_however_far_behind_the_count_is()
    {
        var typed = new TypedInput();
        for (var i = 0; i < 100; i++) typed.Record(new byte[TypedInput.Kept / 10]);
        typed.Record("end\n"u8);
        var after = typed.After(0);
        Assert.InRange(after.Length, TypedInput.Kept, TypedInput.Kept + TypedInput.Kept / 10 + 4);
        Assert.Equal("end\n"u8.ToArray(), after[^4..]);
    }

    [Fact]
    public void An_exit_status_with_more_unread_input_than_home_takes_is_a_protocol_error()
    {
        Assert.Null(new Exited(0, 0) { UnreadInput = new byte[10], InputReceived = 10 }.Problem());
        Assert.NotNull(new Exited(0, 0) { UnreadInput = new byte[Exited.MaxUnreadInput + 1] }.Problem());
        Assert.NotNull(new Exited(0, 0) { InputReceived = -2 }.Problem());
    }
}
