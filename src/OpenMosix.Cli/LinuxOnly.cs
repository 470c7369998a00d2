using System.Runtime.Versioning;

// om drives Linux processes, namespaces and cgroups; it is built for linux-x64 only.
[assembly: SupportedOSPlatform("linux")]
