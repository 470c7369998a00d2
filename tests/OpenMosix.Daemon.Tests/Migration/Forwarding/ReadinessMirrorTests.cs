using OpenMosix.Daemon.Migration.Forwarding;
using OpenMosix.Linux;

namespace OpenMosix.Daemon.Tests.Migration.Forwarding;

/// <summary>The placeholder of a forwarded descriptor shows what home says it is ready for, to the kernel's own poll.</summary>
public sealed class ReadinessMirrorTests
{
    private const short In = ForwardedReadiness.In, Out = ForwardedReadiness.Out;

    [Fact]
    public void The_placeholder_polls_readable_writable_both_or_neither_as_home_says()
    {
        var (mirror, placeholder) = ReadinessMirror.Create();
        using (mirror)
        {
            Assert.Equal(Out, ForwardedReadiness.Of(placeholder));
            mirror.Show(In | Out);
            Assert.Equal(In | Out, ForwardedReadiness.Of(placeholder));
            mirror.Show(0);
            Assert.Equal(0, ForwardedReadiness.Of(placeholder));
            mirror.Show(In);
            Assert.Equal(In, ForwardedReadiness.Of(placeholder));
            mirror.Show(Out);
            Assert.Equal(Out, ForwardedReadiness.Of(placeholder));
        }
    }

    [Fact]
    public void A_read_hang_up_stays_readable_and_a_hang_up_is_final()
    {
        var (mirror, placeholder) = ReadinessMirror.Create();
        using (mirror)
        {
            mirror.Show(ForwardedReadiness.ReadHangUp | In);
            Assert.Equal(In | ForwardedReadiness.ReadHangUp, ForwardedReadiness.Of(placeholder) & (In | ForwardedReadiness.ReadHangUp));
            mirror.Show(0);
            Assert.NotEqual(0, ForwardedReadiness.Of(placeholder) & In);
            mirror.Show(ForwardedReadiness.HangUp);
            mirror.Show(0);
            Assert.NotEqual(0, ForwardedReadiness.Of(placeholder) & ForwardedReadiness.HangUp);
        }
    }
}
