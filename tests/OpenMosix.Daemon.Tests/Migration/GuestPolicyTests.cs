using OpenMosix.Checkpoint.Image;
using OpenMosix.Daemon.Config;
using OpenMosix.Daemon.Migration.Guest;
using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Tests.Migration;

/// <summary>Whose processes a node takes, and that an image must be exactly the process its offer described.</summary>
public sealed class GuestPolicyTests
{
    private static ProcessOwner Owner(uint uid, bool capabilities = false) => new(uid, uid, uid, uid, uid, uid, uid, uid, [uid], capabilities);

    internal static ProcessImage ImageOf(uint uid, ulong permitted = 0) => new()
    {
        Origin = new ImageOrigin { Pid = 42, Command = "counter" },
        Cpu = new CpuState { GeneralRegisters = new byte[216], ExtendedState = new byte[512] },
        Signals = new SignalState { Actions = new SignalAction[64] },
        Attributes = new ProcessAttributes
        {
            Credentials = new Credentials
            {
                Uid = uid, EffectiveUid = uid, SavedUid = uid, FilesystemUid = uid,
                Gid = 1000, EffectiveGid = 1000, SavedGid = 1000, FilesystemGid = 1000, Groups = [1000],
            },
        },
        MainThread = new ThreadSettings { Privileges = new Privileges { Permitted = permitted, Effective = permitted, Bounding = ulong.MaxValue } },
    };

    private static ProcessOwner OwnerOfUser1000 => new(1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, [1000], false);

    [Fact]
    public void An_image_edited_to_uid_0_is_refused_when_the_offer_said_1000()
    {
        var refusal = GuestAdmission.ImageRefusal(OwnerOfUser1000, ImageOf(0));

        Assert.Equal("the image's credentials (uid 0/0/0/0, gid 1000/1000/1000/1000, groups [1000]) are not those of the offer (uid 1000/1000/1000/1000, gid 1000/1000/1000/1000, groups [1000])", refusal);
    }

    [Fact]
    public void An_image_that_gives_capabilities_the_offer_did_not_declare_is_refused()
    {
        var refusal = GuestAdmission.ImageRefusal(OwnerOfUser1000, ImageOf(1000, permitted: 1UL << 21));

        Assert.StartsWith("the image gives the process capabilities its offer did not declare", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void An_image_that_is_the_offered_process_is_taken()
    {
        Assert.Null(GuestAdmission.ImageRefusal(OwnerOfUser1000, ImageOf(1000)));
    }

    [Fact]
    public void Root_processes_are_refused_unless_allowed_and_so_are_capabilities()
    {
        Assert.Contains("migration.allow_root_guests = true", GuestPolicy.Default.Refusal(3, Owner(0)), StringComparison.Ordinal);
        Assert.Contains("migration.allow_root_guests = true", GuestPolicy.Default.Refusal(3, Owner(1000, capabilities: true)), StringComparison.Ordinal);
        Assert.Null((GuestPolicy.Default with { AllowRoot = true }).Refusal(3, Owner(0)));
    }

    [Fact]
    public void A_node_sends_only_the_uids_it_may_its_own_list_before_the_common_one()
    {
        var config = OmdConfigLoader.Parse("[migration]\nguest_uids = \"1000-2000, 65534\"\n[migration.guest_uids_from]\n3 = \"1500\"\n", "omd.toml");
        var policy = config.Guests;

        Assert.Null(policy.Refusal(2, Owner(1000)));
        Assert.Null(policy.Refusal(2, Owner(65534)));
        Assert.Equal("node 2 may not send processes of uid 2001 here (migration.guest_uids = \"1000-2000, 65534\")", policy.Refusal(2, Owner(2001)));
        Assert.Null(policy.Refusal(3, Owner(1500)));
        Assert.Equal("node 3 may not send processes of uid 1000 here (migration.guest_uids_from.3 = \"1500\")", policy.Refusal(3, Owner(1000)));
        Assert.Equal("the offer does not say whose process it is", policy.Refusal(2, null));
    }

    [Theory]
    [InlineData("[migration]\nguest_uids = \"1000-\"\n", ":2: migration.guest_uids: '1000-' is not a uid or a range of uids like 1000-60000")]
    [InlineData("[migration]\nguest_uids = 1000\n", ":2: migration.guest_uids must be a quoted list of uids")]
    [InlineData("[migration]\nallow_root_guests = \"yes\"\n", ":2: migration.allow_root_guests must be true or false")]
    [InlineData("[migration.guest_uids_from]\nmars = \"1000\"\n", ":2: migration.guest_uids_from.mars: 'mars' is not a node id")]
    public void A_bad_guest_policy_is_refused_with_its_line_and_reason(string text, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => OmdConfigLoader.Parse(text, "omd.toml"));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
