namespace OpenMosix.Checkpoint.Format;

/// <summary>
/// Refuses metadata with a null where the model has none. System.Text.Json refuses an explicit null in a non-nullable
/// property, but a property left out (or an object given as <c>{}</c>) ends up null all the same: the source generator
/// sets init-only properties from the JSON, default included, which beats their initialisers. Nor does it look inside
/// collections, so <c>"Regions": [null]</c> gets through. Every reference the restorer follows is checked here, before
/// anything else reads the metadata.
/// </summary>
internal static class MetadataPresence
{
    public static void Check(ProcessImage image)
    {
        Present(image.Origin, "Origin");
        Present(image.Origin.Command, "Origin.Command");
        Present(image.Origin.ExecutablePath, "Origin.ExecutablePath");
        Each(image.Origin.Arguments, "Origin.Arguments", (argument, path) => Present(argument, path));
        Present(image.Origin.Hostname, "Origin.Hostname");
        Present(image.Origin.KernelRelease, "Origin.KernelRelease");
        Present(image.Origin.KernelVersion, "Origin.KernelVersion");
        Present(image.Origin.CpuFeatures, "Origin.CpuFeatures");

        Present(image.Cpu, "Cpu");
        Present(image.Cpu.GeneralRegisters, "Cpu.GeneralRegisters");
        Present(image.Cpu.ExtendedState, "Cpu.ExtendedState");

        Present(image.Signals, "Signals");
        Present(image.Signals.Actions, "Signals.Actions");
        Each(image.Signals.Pending, "Signals.Pending", (pending, path) => Present(pending.SigInfo, path + ".SigInfo"));

        Present(image.Attributes, "Attributes");
        Present(image.Attributes.WorkingDirectory, "Attributes.WorkingDirectory");
        Present(image.Attributes.Credentials, "Attributes.Credentials");
        Present(image.Attributes.Credentials.Groups, "Attributes.Credentials.Groups");
        Present(image.Attributes.Limits, "Attributes.Limits");
        Present(image.Attributes.Auxv, "Attributes.Auxv");

        Present(image.Timers, "Timers");
        Present(image.MainThread, "MainThread");
        Present(image.MainThread.Name, "MainThread.Name");
        Privileges(image.MainThread.Privileges, "MainThread.Privileges");
        Each(image.Threads, "Threads", (thread, path) =>
        {
            Present(thread.GeneralRegisters, path + ".GeneralRegisters");
            Present(thread.ExtendedState, path + ".ExtendedState");
            Each(thread.Pending, path + ".Pending", (pending, at) => Present(pending.SigInfo, at + ".SigInfo"));
            Present(thread.Settings, path + ".Settings");
            Present(thread.Settings.Name, path + ".Settings.Name");
            Privileges(thread.Settings.Privileges, path + ".Settings.Privileges");
        });
        Regions(image.Regions, "Regions");
        Files(image.Files, "Files");
        if (image.Precopy is { } precopy)
        {
            Present(precopy.Kept, "Precopy.Kept");
            Present(precopy.Missing, "Precopy.Missing");
        }
    }

    public static void Check(PrecopyLayout layout)
    {
        Present(layout.Command, "layout.Command");
        Regions(layout.Regions, "layout.Regions");
        Present(layout.Tracked, "layout.Tracked");
        Files(layout.Files, "layout.Files");
    }

    private static void Privileges(Privileges privileges, string path)
    {
        Present(privileges, path);
        Each(privileges.SeccompFilters, path + ".SeccompFilters", (filter, at) => Present(filter.Program, at + ".Program"));
    }

    private static void Regions(List<MemoryRegion> regions, string path) =>
        Each(regions, path, (region, at) => Present(region.Name, at + ".Name"));

    private static void Files(List<FileDescriptorRecord> files, string path) =>
        Each(files, path, (file, at) =>
        {
            Present(file.Path, at + ".Path");
            Present(file.PipeContents, at + ".PipeContents");
            if (file.Epoll is { } epoll) Each(epoll.Registrations, at + ".Epoll.Registrations", (_, _) => { });
            if (file.Memfd is { } memfd)
            {
                Present(memfd.Name, at + ".Memfd.Name");
                Each(memfd.Contents, at + ".Memfd.Contents", (extent, e) => Present(extent.Data, e + ".Data"));
            }
        });

    private static void Each<T>(List<T> items, string path, Action<T, string> check) where T : class
    {
        Present(items, path);
        for (var i = 0; i < items.Count; i++)
        {
            var at = $"{path}[{i}]";
            Present(items[i], at);
            check(items[i], at);
        }
    }

    // The model says "never null", so the compiler sees no need for this test: the JSON can still make it so.
    private static void Present<T>(T? value, string path) where T : class =>
        MetadataValidator.Require(value is not null, $"{path} is missing or null");
}
