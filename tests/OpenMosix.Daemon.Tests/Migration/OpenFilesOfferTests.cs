using OpenMosix.Daemon.Migration.Guest;
using OpenMosix.Daemon.Migration.Home;
using OpenMosix.Daemon.Migration.Protocol;
using OpenMosix.Linux;

namespace OpenMosix.Daemon.Tests.Migration;

/// <summary>
/// Files the target lacks outside the home paths (issue #15): the offer lists the regular files the process holds
/// open, and the target names those it lacks or has different, which home then leaves in the deputy.
/// </summary>
public sealed class OpenFilesOfferTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("omopen-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static Offer OfferOf(params OpenFile[] files) => new(1, 1000, 1, "p", "k", 0, []) { OpenFiles = files };

    [Fact]
    public void The_target_names_a_file_it_lacks_and_one_of_another_size_and_takes_the_same_file_or_one_of_the_same_size_for_its_own()
    {
        var here = Path.Combine(_directory, "here");
        File.WriteAllText(here, "twelve bytes");
        var st = FileStatus.Of(here);

        var lacking = OfferCheck.Lacking(OfferOf(
            new OpenFile(3, Path.Combine(_directory, "missing"), 1, 2, 12),
            new OpenFile(4, here, st.Device, st.Inode, 12),
            new OpenFile(5, here, st.Device + 1, st.Inode + 1, 12),
            new OpenFile(6, here, st.Device + 1, st.Inode + 1, 13),
            new OpenFile(7, _directory, 1, 2, 0)));

        Assert.Equal([3, 6, 7], lacking);
        Assert.Null(OfferCheck.Lacking(OfferOf(new OpenFile(4, here, st.Device, st.Inode, 12))));
        Assert.Null(OfferCheck.Lacking(new Offer(1, 1000, 1, "p", "k", 0, [])));
    }

    [Fact]
    public void The_offer_lists_the_regular_files_held_open_but_not_those_below_the_home_paths_nor_deleted_ones()
    {
        var kept = Path.Combine(_directory, "kept");
        var gone = Path.Combine(_directory, "gone");
        var homeDirectory = Path.Combine(_directory, "home");
        Directory.CreateDirectory(homeDirectory);
        var below = Path.Combine(homeDirectory, "below");
        File.WriteAllText(kept, "kept");
        File.WriteAllText(gone, "gone");
        File.WriteAllText(below, "below");
        using var keptFile = File.OpenRead(kept);
        using var goneFile = File.OpenRead(gone);
        using var belowFile = File.OpenRead(below);
        File.Delete(gone);

        var files = OfferBuilder.OpenFiles(Environment.ProcessId, new Checkpoint.CantMove.HomePaths([homeDirectory])) ?? [];

        var listed = Assert.Single(files, f => f.Path.StartsWith(_directory, StringComparison.Ordinal));
        Assert.Equal((int)keptFile.SafeFileHandle.DangerousGetHandle(), listed.Fd);
        Assert.Equal((kept, 4L, FileStatus.Of(kept).Inode), (listed.Path, listed.Size, listed.Inode));
    }
}
