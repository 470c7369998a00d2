using System.Text.Json.Serialization;
using OpenMosix.Lab.State;

namespace OpenMosix.Cli.Commands.Lab;

/// <summary>
/// om lab restart|kill|revive|cut|heal|netem --json: the node, the fault, and what it gave; a field that does not
/// apply to the fault is left out (DaemonPid also when revive started no omd, Netem when netem --clear).
/// </summary>
internal sealed record LabFaultJson(int Node, string Fault)
{
    /// <summary>restart: the omd stopped, and how (terminated, killed, or notRunning).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? OldDaemonPid { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Stop { get; init; }

    /// <summary>restart and revive: the omd started.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? DaemonPid { get; init; }

    /// <summary>kill: the processes killed.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Processes { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public NetemSettings? Netem { get; init; }

    /// <summary>The line the text form prints: made with the rest, it says what JSON leaves to its fields.</summary>
    [JsonIgnore]
    public string Text { get; init; } = "";
}
