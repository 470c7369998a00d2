namespace OpenMosix.Fuzz.Tests.Engine;

/// <summary>
/// One parser under fuzzing: its seeds, how its inputs are best mutated, and its oracle. <see cref="Run"/> answers
/// whether the input was accepted; a refusal is one of <see cref="Refusals"/> thrown with a one-line message, and
/// anything else that escapes (or a <see cref="PropertyViolation"/> thrown by the target's own checks) is a finding.
/// </summary>
public abstract class FuzzTarget : IDisposable
{
    /// <summary>The corpus folder name (Corpus/NAME) and the name in test output.</summary>
    public abstract string Name { get; }

    /// <summary>The exception types the parser documents for input it refuses.</summary>
    public abstract IReadOnlyList<Type> Refusals { get; }

    /// <summary>False where the refusal's message is not what the user sees (the caller rewrites it into one line).</summary>
    public virtual bool OneLineRefusals => true;

    /// <summary>What one input may allocate when the target's format lets a few bytes stand for much (null: the run's limit).</summary>
    public virtual long? AllocationLimit => null;

    /// <summary>Tokens worth inserting (keywords, separators, numbers at limits) for text formats.</summary>
    public virtual IReadOnlyList<byte[]> Dictionary => [];

    /// <summary>Valid inputs made by the code itself; the checked-in corpus holds them as valid-NAME.</summary>
    public abstract IEnumerable<(string Name, byte[] Data)> Seeds();

    /// <summary>Parses one input; true when accepted. Throws the parser's refusal or a <see cref="PropertyViolation"/>.</summary>
    public abstract bool Run(byte[] input);

    /// <summary>A new input from a corpus entry; formats with checksums or MACs override this to repair them.</summary>
    public virtual byte[] Mutate(Mutator mutator, byte[] seed, IReadOnlyList<byte[]> corpus) => mutator.Mutate(seed, corpus);

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}

/// <summary>An accepted input broke a property the target checks (a round trip, a documented bound).</summary>
public sealed class PropertyViolation(string message) : Exception(message);
