using OpenMosix.Checkpoint.Image;
using OpenMosix.Daemon.Migration.Protocol;

namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>
/// The image a home sends must be the process its offer described: the same uids, gids and groups, and capabilities
/// only if the offer declared them (the guest policy judged the offer, so an image that claims more, uid 0 from an
/// offer of uid 1000, is a forgery or a mistake, and is refused before anything is built of it).
/// </summary>
internal static class GuestAdmission
{
    public static string? ImageRefusal(ProcessOwner offered, ProcessImage image)
    {
        var found = ProcessOwner.Of(image);
        if (!(found with { Capabilities = offered.Capabilities }).SameAs(offered))
            return $"the image's credentials ({found.Describe()}) are not those of the offer ({offered.Describe()})";
        // Capabilities dropped between the offer and the freeze are fine; gained, they were never judged.
        return found.Capabilities && !offered.Capabilities ? $"the image gives the process capabilities its offer did not declare ({found.Describe()})" : null;
    }
}
