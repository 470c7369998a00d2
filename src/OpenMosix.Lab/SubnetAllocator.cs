using OpenMosix.Lab.Host;
using OpenMosix.Lab.State;

namespace OpenMosix.Lab;

/// <summary>
/// Picks K for a lab's 10.77.K.0/24: the same K for the same name when it is free (stable addresses across runs), else the
/// next free one. Taken: any K another lab's state records, or any host address inside 10.77.K.0/24.
/// </summary>
public static class SubnetAllocator
{
    public const string Prefix = "10.77";
    public const int First = 1, Last = 254;

    public static string Address(int subnet, int host) => $"{Prefix}.{subnet}.{host}";
    public static string BridgeAddress(int subnet) => Address(subnet, 254);

    public static int Allocate(LabName name)
    {
        var taken = new HashSet<int>();
        if (Directory.Exists(LabLayout.LabsRoot))
            foreach (var dir in Directory.EnumerateDirectories(LabLayout.LabsRoot))
                if (LabName.TryParse(Path.GetFileName(dir), out var other) && other != name
                    && LabStateStore.TryLoad(new LabLayout(other!)) is { } state)
                    taken.Add(state.Subnet);
        foreach (var address in IpRoute.HostIPv4Addresses())
        {
            var parts = address.Split('.');
            if (parts.Length == 4 && $"{parts[0]}.{parts[1]}" == Prefix && int.TryParse(parts[2], out var k)) taken.Add(k);
        }
        var span = Last - First + 1;
        var preferred = (int)(Fnv1a(name.Value) % (uint)span);
        for (var i = 0; i < span; i++)
        {
            var k = First + (preferred + i) % span;
            if (!taken.Contains(k)) return k;
        }
        throw new LabException($"allocate a subnet: every 10.77.K.0/24 is in use");
    }

    private static uint Fnv1a(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text) hash = (hash ^ c) * 16777619u;
        return hash;
    }
}
