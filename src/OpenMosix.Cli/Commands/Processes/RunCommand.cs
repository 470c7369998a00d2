using OpenMosix.Linux;

namespace OpenMosix.Cli.Commands.Processes;

internal static class RunCommand
{
    public static Command Create()
    {
        var program = new Argument<string[]>("COMMAND")
        {
            Description = "The program and its arguments.",
            Arity = ArgumentArity.OneOrMore,
        };
        var on = new Option<int?>("--on") { Description = "Start it on this node (classic: mosrun -NODE, runon NODE)." };
        var among = new Option<string?>("--among") { Description = "Start it on the least loaded of these nodes, e.g. 2-4,7 (classic: -j)." };
        var fallback = new Option<bool>("--fallback") { Description = "If the chosen nodes are unavailable, start it on any node (classic: -F)." };
        var home = new Option<bool>("--home") { Description = "Start it here, at home (classic: -h, runhome)." };
        var locked = new Option<bool>("--lock") { Description = "Never move it automatically (classic: -L, nomig)." };
        var unlocked = new Option<bool>("--unlock") { Description = "Allow automatic moves (the default; classic: -l)." };
        var cpujob = new Option<bool>("--cpujob") { Description = "Treat it as using a whole CPU, whatever is measured (classic: -c)." };
        var iojob = new Option<bool>("--iojob") { Description = "Treat it as using no CPU: never moved for load (classic: -i)." };
        var nodecay = new Option<bool>("--nodecay") { Description = "Judge its CPU use by its lifetime average (classic: -n)." };
        var slowDecay = new Option<bool>("--slow-decay") { Description = "Judge its CPU use by about a minute of history (classic: -s; mosctl getdecay)." };
        var fastDecay = new Option<bool>("--fast-decay") { Description = "Judge its CPU use by a few seconds of history (the default; classic: -f)." };
        var command = new Command("run",
            "Run a program as a process openMosix manages (it may then be migrated). The program replaces om: the shell's " +
            "child is the program itself, with om's PID. Also run as `mosrun` (with its classic -h -NODE -j -F -L -l -c -i -n -s -f), " +
            "`runhome`, `runon NODE` and `nomig`.")
        {
            on, among, fallback, home, locked, unlocked, cpujob, iojob, nodecay, slowDecay, fastDecay, program,
        };
        command.SetAction(parse =>
        {
            var words = parse.GetValue(program)!;
            var hint = OneOf(parse, ("--cpujob", cpujob, "cpu"), ("--iojob", iojob, "io"));
            var decay = OneOf(parse, ("--slow-decay", slowDecay, "slow"), ("--fast-decay", fastDecay, "fast"), ("--nodecay", nodecay, "none"));
            var path = ResolveProgram(words[0]);
            var placement = new RunRequest(parse.GetValue(on) ?? 0, ParseNodes(parse.GetValue(among)), parse.GetValue(fallback),
                parse.GetValue(home), parse.GetValue(locked) && !parse.GetValue(unlocked), decay, hint);
            if (placement.Home && (placement.On != 0 || placement.Among.Count > 0))
                throw new UsageException("--home and --on/--among contradict each other");
            using (var omd = new AdminClient())
                omd.RegisterSelfAsync(placement).GetAwaiter().GetResult();
            ExecReplacement.Replace(path, words);
            return 0;
        });
        return command;
    }

    /// <summary>The value of the one flag given among mutually exclusive ones (null for none); two given is a usage error.</summary>
    private static string? OneOf(ParseResult parse, params (string Name, Option<bool> Flag, string Value)[] choices)
    {
        var given = choices.Where(c => parse.GetValue(c.Flag)).ToList();
        return given.Count switch
        {
            0 => null,
            1 => given[0].Value,
            _ => throw new UsageException($"{string.Join(" and ", given.Select(c => c.Name))} contradict each other"),
        };
    }

    /// <summary>"2-4,7" → 2, 3, 4, 7.</summary>
    public static IReadOnlyList<int> ParseNodes(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return [];
        var nodes = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var range = part.Split('-');
            if (range.Length is 1 or 2 && range.All(r => int.TryParse(r, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 65535))
            {
                var first = int.Parse(range[0], CultureInfo.InvariantCulture);
                var last = int.Parse(range[^1], CultureInfo.InvariantCulture);
                if (last < first) throw new UsageException($"node range '{part}' runs backwards");
                nodes.AddRange(Enumerable.Range(first, last - first + 1));
            }
            else
            {
                throw new UsageException($"'{part}' is not a node id or a range like 2-4");
            }
        }
        return nodes;
    }

    /// <summary>A program name as a shell finds it: a path with a slash as given, otherwise the first PATH match.</summary>
    public static string ResolveProgram(string name)
    {
        if (name.Contains('/', StringComparison.Ordinal))
            return File.Exists(name) ? Path.GetFullPath(name) : throw new CommandFailedException($"{name}: no such file");
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin").Split(':'))
        {
            var candidate = Path.Join(directory.Length == 0 ? "." : directory, name);
            if (File.Exists(candidate) && (File.GetUnixFileMode(candidate) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0)
                return Path.GetFullPath(candidate);
        }
        throw new CommandFailedException($"{name}: command not found");
    }
}
