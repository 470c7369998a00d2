using System.Reflection;
using System.Text.Json.Serialization;
using OpenMosix.Cluster.Transport;
using OpenMosix.Daemon.Migration.Protocol;
using OpenMosix.Fuzz.Tests.Engine;
using OpenMosix.Linux;

namespace OpenMosix.Fuzz.Tests.Targets;

/// <summary>
/// Migration control messages as a Control frame's payload, every kind expected: refusal is a
/// <see cref="LinkException"/>; an accepted message encodes to JSON that parses back to the same JSON.
/// </summary>
public sealed class MessageTarget : FuzzTarget
{
    public static readonly Type[] Kinds =
        [.. typeof(MigrationMessage).GetCustomAttributes<JsonDerivedTypeAttribute>().Select(a => a.DerivedType)];

    public override string Name => "message";
    public override IReadOnlyList<Type> Refusals { get; } = [typeof(LinkException)];

    public override IReadOnlyList<byte[]> Dictionary { get; } = Mutator.Tokens(
        "\"kind\":", "null", "{}", "[]", "-1", "2147483648", "1e400", "\"\\u0000\"", "\"offer\"", "\"exit\"", ",", ":", "\"");

    public override IEnumerable<(string Name, byte[] Data)> Seeds() => Samples().Select(m => (MessageWire.KindOf(m.GetType()) + ".json", MessageWire.Encode(m)));

    public static IEnumerable<MigrationMessage> Samples()
    {
        yield return new Offer(4242, 1000, 1, "python3", "6.18.0", 12 << 20, [new FileFingerprint("/usr/bin/python3", 6_000_000)],
            "slow", "cpu", new byte[Terminal.TermiosSize], new byte[Terminal.WinsizeSize]);
        yield return new Accept();
        yield return new Refuse("blocked");
        yield return new PrecopyRound(2);
        yield return new RoundTaken();
        yield return new Final();
        yield return new Restored(777, [1, 2], true);
        yield return new Failed("restore failed");
        yield return new Commit();
        yield return new Abort("home gave up");
        yield return new Running();
        yield return new ForwardSignal(28, new byte[Terminal.WinsizeSize]);
        yield return new Exited(0, 0);
        yield return new MoveRequest(3, "memory", 1 << 20);
        yield return new MoveFailed("no room");
        yield return new ComeHome();
        yield return new ImageFollows();
        yield return new WelcomeHome();
        yield return new Stay("could not rebuild");
        yield return new SignalsAfterImage([19, 20]);
        yield return new TerminalModesChanged(new byte[Terminal.TermiosSize]);
        yield return new CopyJobState(true, 19);
    }

    public override bool Run(byte[] input)
    {
        var message = MessageWire.Parse(new Frame(FrameType.Control, input), 2, Kinds);
        var json = MessageWire.Encode(message);
        var again = MessageWire.Encode(MessageWire.Parse(new Frame(FrameType.Control, json), 2, Kinds));
        if (!json.AsSpan().SequenceEqual(again)) throw new PropertyViolation("an accepted message does not survive encode and parse");
        return true;
    }

    public override byte[] Mutate(Mutator mutator, byte[] seed, IReadOnlyList<byte[]> corpus)
    {
        ArgumentNullException.ThrowIfNull(mutator);
        return mutator.Random.Next(3) > 0 && JsonMutator.Mutate(mutator.Random, seed) is { } json ? json : mutator.Mutate(seed, corpus);
    }
}
