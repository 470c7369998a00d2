using System.Runtime.Versioning;

// These tests drive Linux processes through /proc and ptrace-based tooling; they only exist on Linux.
[assembly: SupportedOSPlatform("linux")]
