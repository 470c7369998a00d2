namespace OpenMosix.Checkpoint.Tests.Engine;

/// <summary>Tests that inspect the whole set of this process's children run with no other test beside them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessTreeSensitive
{
    public const string Name = "process tree sensitive";
}
