namespace OpenMosix.Cli.Infrastructure;

/// <summary>Runs one admin API call to the local omd from a synchronous command action.</summary>
internal static class AdminCall
{
    public static T Run<T>(Func<AdminClient, Task<T>> call)
    {
        using var client = new AdminClient();
        return call(client).GetAwaiter().GetResult();
    }
}
