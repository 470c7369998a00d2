using OpenMosix.Cli.Tests.Support;

namespace OpenMosix.Cli.Tests;

/// <summary>
/// `om migrate --tree` moves a tree without post-copy: asking for it is refused in one line with the usage exit status
/// (2), before omd is asked anything (nothing is done to the tree).
/// </summary>
public sealed class MigrateTreeArgumentTests
{
    [Fact]
    public async Task Om_migrate_tree_with_postcopy_always_refuses_in_one_line_before_asking_omd()
    {
        var result = await OmCli.RunAsync(["migrate", "--tree", "4242", "3", "--postcopy", "always"]);

        Assert.Equal((2, "om: --tree --postcopy always: a tree moves without post-copy (each member's original is its deputy once committed)\n"),
            (result.ExitCode, result.Stderr));
    }

    [Fact]
    public async Task Om_migrate_tree_of_a_bad_pid_is_a_usage_error()
    {
        var result = await OmCli.RunAsync(["migrate", "--tree", "0", "3"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
    }
}
