using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Integration;

/// <summary>om adopt, om release, migrate of an unmanaged process and mosctl manage, as root and as another user,
/// against a real omd.</summary>
public sealed class AdoptionCommandTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private static readonly string[] AsNobody = ["--reuid=65534", "--regid=65534", "--clear-groups"];
    private readonly LoopbackCluster _cluster = new(2);

    public AdoptionCommandTests() => _cluster.Start(1);

    public void Dispose() => _cluster.Dispose();

    private CommandResult OmAsNobody(params string[] arguments) =>
        CommandRun.Run("setpriv", [.. AsNobody, OmBinary.Path, .. arguments], new Dictionary<string, string> { ["OM_SOCKET"] = _cluster.SocketPath(1) });

    private static ChildProcess Sleep(string seconds, bool asNobody = false)
    {
        var sleep = asNobody ? ChildProcess.Start("/usr/bin/setpriv", [.. AsNobody, "/bin/sleep", seconds]) : ChildProcess.Start("/bin/sleep", [seconds]);
        Poll.Until(() => ProcFs.ReadCommandLine(sleep.Pid) is ["/bin/sleep", var s] && s == seconds, Patience, "sleep to run");
        return sleep;
    }

    private bool Managed(int pid) => _cluster.Om(1, "where", $"{pid}").ExitCode == 0;

    [Fact]
    public void A_user_who_is_not_root_may_not_adopt_move_or_release_anothers_process_and_is_told_why_in_one_line()
    {
        using var roots = Sleep("71");
        var why = $"om: process {roots.Pid} belongs to uid 0; only its owner or root may hand it to openMosix\n";
        var adopt = OmAsNobody("adopt", $"{roots.Pid}");
        Assert.Equal((1, why), (adopt.ExitCode, adopt.Stderr));
        var move = OmAsNobody("migrate", $"{roots.Pid}", "2");
        Assert.Equal((1, why), (move.ExitCode, move.Stderr));
        Assert.False(Managed(roots.Pid));

        Assert.Equal(0, _cluster.Om(1, "adopt", $"{roots.Pid}").ExitCode);
        var release = OmAsNobody("release", $"{roots.Pid}");
        Assert.Equal((1, $"om: process {roots.Pid} belongs to uid 0; only its owner or root may release it\n"), (release.ExitCode, release.Stderr));
        Assert.True(Managed(roots.Pid));
    }

    [Fact]
    public void A_user_may_adopt_and_release_their_own_process()
    {
        using var own = Sleep("72", asNobody: true);
        var adopt = OmAsNobody("adopt", $"{own.Pid}");
        Assert.True(adopt.ExitCode == 0, adopt.ToString());
        Assert.Equal($"adopted {own.Pid}: /bin/sleep 72\n", adopt.Stdout);
        Assert.True(Managed(own.Pid));
        var release = OmAsNobody("release", $"{own.Pid}");
        Assert.True(release.ExitCode == 0, release.ToString());
        Assert.False(Managed(own.Pid));
        Assert.Equal(0, ProcFs.ReadStatus(own.Pid).TracerPid);
    }

    [Fact]
    public void Migrate_of_an_unmanaged_process_that_cannot_move_gives_it_back_as_it_was()
    {
        // Node 2 is in the map but its omd is not running: the move is refused after the adoption.
        using var sleeper = Sleep("73");
        var move = _cluster.Om(1, "migrate", $"{sleeper.Pid}", "2");
        Assert.NotEqual(0, move.ExitCode);
        Assert.StartsWith("om: node 2 is ", move.Stderr, StringComparison.Ordinal);
        Assert.False(Managed(sleeper.Pid));
        Assert.Equal(0, ProcFs.ReadStatus(sleeper.Pid).TracerPid);
    }

    [Fact]
    public void Mosctl_manage_shows_the_policy_and_only_root_may_change_it()
    {
        Assert.Equal("users:    -\ncgroups:  -\nprograms: -\n", _cluster.Om(1, "mosctl", "manage").Stdout);
        var refused = OmAsNobody("mosctl", "manage", "--users", "*");
        Assert.Equal((1, "om: only root may change which processes are managed (you are uid 65534)\n"), (refused.ExitCode, refused.Stderr));
        var set = _cluster.Om(1, "mosctl", "manage", "--users", "*", "--programs", "/opt/*");
        Assert.Equal("users:    *\ncgroups:  -\nprograms: /opt/*\n", set.Stdout);
        Assert.Equal(set.Stdout, OmAsNobody("mosctl", "manage").Stdout);
    }
}
