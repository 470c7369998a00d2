using System.Runtime.Versioning;

// The TLS file tests read and set Unix file modes.
[assembly: SupportedOSPlatform("linux")]
