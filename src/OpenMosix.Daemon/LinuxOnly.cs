using System.Runtime.Versioning;

// omd manages Linux processes through Linux interfaces; there is no other platform to fall back to.
[assembly: SupportedOSPlatform("linux")]
