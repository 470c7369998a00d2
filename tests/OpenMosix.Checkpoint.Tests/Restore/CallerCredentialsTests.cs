using OpenMosix.Checkpoint.Image;
using OpenMosix.Checkpoint.Restore;

namespace OpenMosix.Checkpoint.Tests.Restore;

/// <summary>Who may restore an image: root any, another user only one whose ids the kernel would let them take.</summary>
public sealed class CallerCredentialsTests
{
    private static Credentials User(uint uid, uint gid, params uint[] groups) => new()
    {
        Uid = uid, EffectiveUid = uid, SavedUid = uid, FilesystemUid = uid,
        Gid = gid, EffectiveGid = gid, SavedGid = gid, FilesystemGid = gid, Groups = [.. groups],
    };

    [Fact]
    public void A_user_may_restore_their_own_image_with_the_same_groups_in_any_order()
    {
        var e = Record.Exception(() => CallerCredentials.RequireRestorable(User(1000, 1000, 27, 100), User(1000, 1000, 100, 27)));
        Assert.Null(e);
    }

    [Fact]
    public void Root_may_restore_any_image()
    {
        var e = Record.Exception(() => CallerCredentials.RequireRestorable(User(0, 0), caller: null));
        Assert.Null(e);
    }

    [Fact]
    public void An_image_of_a_setuid_program_is_refused_to_its_real_user()
    {
        var setuid = new Credentials
        {
            Uid = 1000, EffectiveUid = 0, SavedUid = 0, FilesystemUid = 0,
            Gid = 1000, EffectiveGid = 1000, SavedGid = 1000, FilesystemGid = 1000,
        };
        var e = Assert.Throws<RestoreException>(() => CallerCredentials.RequireRestorable(setuid, User(1000, 1000)));
        Assert.Equal("the image is of a process of uid 1000 (gid 1000, groups none) and you are uid 1000 (gid 1000, groups none): " +
            "only root may restore a process with other credentials", e.Message);
    }

    [Theory]
    [InlineData(1001u, 1000u, new uint[0])]
    [InlineData(1000u, 1001u, new uint[0])]
    [InlineData(1000u, 1000u, new uint[] { 27 })]
    public void An_image_with_another_uid_gid_or_groups_is_refused(uint uid, uint gid, uint[] groups)
    {
        var e = Assert.Throws<RestoreException>(() => CallerCredentials.RequireRestorable(User(uid, gid, groups), User(1000, 1000)));
        Assert.EndsWith("only root may restore a process with other credentials", e.Message, StringComparison.Ordinal);
    }
}
