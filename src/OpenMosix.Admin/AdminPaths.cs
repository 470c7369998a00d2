namespace OpenMosix.Admin;

/// <summary>Where omd listens; `OM_SOCKET` overrides it so tools can talk to a daemon elsewhere (labs, tests).</summary>
public static class AdminPaths
{
    public const string DefaultSocket = "/run/openmosix/omd.sock";

    public static string Socket =>
        Environment.GetEnvironmentVariable("OM_SOCKET") is { Length: > 0 } path ? path : DefaultSocket;
}
