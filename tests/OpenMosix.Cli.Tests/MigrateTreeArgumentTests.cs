using OpenMosix.Cli.Tests.Support;

namespace OpenMosix.Cli.Tests;

/// <summary>
/// `om migrate --tree` is not built: it refuses in one line with the usage exit status (2), before omd is asked
/// anything (nothing is done to the tree), giving the commands that take a tree along today with its PID and node.
/// </summary>
public sealed class MigrateTreeArgumentTests
{
    [Fact]
    public async Task Om_migrate_tree_refuses_in_one_line_naming_the_checkpoint_and_restore_that_take_the_tree_along()
    {
        var result = await OmCli.RunAsync(["migrate", "--tree", "4242", "3"]);

        Assert.Equal((2, "om: --tree: moving process 4242 with its descendants between running nodes is not built, nothing was done; " +
            "to take the tree along: `om checkpoint --tree 4242 -o DIR --kill` here, then `om restore DIR` on node 3 " +
            "(DIR where both nodes see it; without --kill the tree runs on here)\n"), (result.ExitCode, result.Stderr));
    }

    [Fact]
    public async Task Om_migrate_tree_to_balance_names_no_node()
    {
        var result = await OmCli.RunAsync(["migrate", "--tree", "4242", "balance"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("`om restore DIR` on the node wanted", result.Stderr, StringComparison.Ordinal);
    }
}
