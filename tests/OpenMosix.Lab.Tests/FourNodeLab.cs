using OpenMosix.Lab.Tests.Support;

namespace OpenMosix.Lab.Tests;

/// <summary>One 4-node lab without daemons, shared by the tests that only look at it: up once, down at the end.</summary>
public sealed class FourNodeLab : IDisposable
{
    internal TestLab Lab { get; } = new(4, "--cpus", "0.5,0.5,0.5,1", "--mem", "256M,256M,512M,1G");

    public void Dispose() => Lab.Dispose();
}
