namespace OpenMosix.Admin;

/// <summary>One balancer tunable in effect on this node: its omd.toml name ([balance]), value and unit ("" for none).</summary>
public sealed record Tunable(string Name, string Value, string Unit);

/// <summary>`mosctl gettune`: every balancer tunable of this node, in omd.toml's order.</summary>
public sealed record TuneList(IReadOnlyList<Tunable> Tunables);

/// <summary>`mosctl getdecay`: the half-lives of slow and fast decay, and the decay of processes started without a
/// decay option ("slow", "fast").</summary>
public sealed record DecaySetting(double SlowSeconds, double FastSeconds, string DefaultMode);

/// <summary>`mosctl setdecay SLOW FAST`: new half-lives in seconds.</summary>
public sealed record DecayChange(double SlowSeconds, double FastSeconds);
