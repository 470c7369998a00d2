using System.Net;
using System.Text.Json.Serialization.Metadata;

namespace OpenMosix.Cli.Commands.Cluster;

/// <summary>The classic mosctl verbs that read or set a node's figures. NODE defaults to this node.</summary>
internal static class MosctlCommand
{
    public static Command Create()
    {
        var command = new Command("mosctl",
            "Query and set this node's openMosix figures, as the classic mosctl did. Also run as `mosctl`.")
        {
            Query("getload", "Print a node's load (run queue per reference CPU; 1.00 = one job per reference CPU).",
                n => n.Load.ToString("0.00", CultureInfo.InvariantCulture)),
            Query("getspeed", "Print a node's speed (10000 = the reference CPU).",
                n => n.Speed.ToString(CultureInfo.InvariantCulture)),
            Query("getmem", "Print a node's total memory in bytes (its cgroup limit when it has one).",
                n => n.TotalMemory.ToString(CultureInfo.InvariantCulture)),
            Query("getfree", "Print a node's free memory in bytes.",
                n => n.FreeMemory.ToString(CultureInfo.InvariantCulture)),
            Query("getutil", "Print a node's CPU utilisation in percent of its capacity.",
                n => n.Utilization.ToString("0%", CultureInfo.InvariantCulture)),
            Query("status", "Print a node's state: alive, suspect, dead or unknown (never heard from).", n => n.State.Name()),
            IsUp(),
            Whois(),
            SetSpeed(),
            Switch("block", "block", true, "Take no processes from other nodes (root only); they are refused, and the balancer sends none."),
            Switch("noblock", "block", false, "Take processes from other nodes again (root only)."),
            Switch("quiet", "quiet", true, "Mark this node quiet (root only): other nodes send it no work."),
            Switch("noquiet", "quiet", false, "End quiet (root only)."),
            Switch("stay", "stay", true, "Keep every process running here from moving by itself (root only); om migrate still moves them."),
            Switch("nostay", "stay", false, "Let processes running here move by themselves again (root only)."),
            Switch("lstay", "lstay", true, "Keep this node's own processes from moving by themselves (root only)."),
            Switch("nolstay", "lstay", false, "Let this node's own processes move by themselves again (root only)."),
            Bring(),
            Expel(),
            GetTune(),
            GetLink(),
            GetDecay(),
            SetDecay(),
            Manage(),
        };
        return command;
    }

    private static Argument<int?> NodeArgument() => new("NODE")
    {
        Description = "Node id (default: this node).",
        Arity = ArgumentArity.ZeroOrOne,
    };

    private static Command Query(string name, string description, Func<NodeRow, string> show)
    {
        var node = NodeArgument();
        return ResultCommand.Create(name, description + " --json prints the node's whole row, as in `om status --json`.",
            [node], AdminJsonContext.Default.NodeRow,
            parse => Find(AdminCall.Run(c => c.NodesAsync()), parse.GetValue(node)),
            row => Console.WriteLine(row.AgeMs < 0 && name != "status" ? "unknown" : show(row)));
    }

    private static Command IsUp()
    {
        var node = NodeArgument();
        return ResultCommand.Create("isup", "Print yes and exit 0 when a node is alive, else print no and exit 1.",
            [node], CliJsonContext.Default.NodeUpJson,
            parse =>
            {
                var row = Find(AdminCall.Run(c => c.NodesAsync()), parse.GetValue(node));
                return new NodeUpJson(row.Id, row.State == NodeLiveness.Alive);
            },
            answer => Console.WriteLine(answer.Up ? "yes" : "no"),
            answer => answer.Up ? 0 : 1);
    }

    private static Command Whois()
    {
        var what = new Argument<string?>("NODE|ADDRESS")
        {
            Description = "A node id (prints its address) or an address or host name (prints its node id); none: this node's id.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var json = GlobalOptions.Json();
        var command = new Command("whois",
            "Translate between node ids and addresses using the map in use. --json prints the node's id and address, whichever was asked.")
        {
            what, json,
        };
        command.SetAction(parse =>
        {
            var view = AdminCall.Run(c => c.NodesAsync());
            var query = parse.GetValue(what);
            if (query is null)
            {
                var self = Find(view, view.Self);
                JsonOutput.Print(parse, json, new WhoisJson(self.Id, self.Address), CliJsonContext.Default.WhoisJson,
                    () => Console.WriteLine(view.Self.ToString(CultureInfo.InvariantCulture)));
                return 0;
            }
            if (int.TryParse(query, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                var row = Find(view, id);
                JsonOutput.Print(parse, json, new WhoisJson(row.Id, row.Address), CliJsonContext.Default.WhoisJson,
                    () => Console.WriteLine(row.Address));
                return 0;
            }
            var addresses = IPAddress.TryParse(query, out var parsed) ? [parsed] : Resolve(query);
            var map = AdminCall.Run(c => c.MapAsync());
            var match = map.Nodes.FirstOrDefault(n =>
                addresses.Any(a => a.ToString() == n.Address || n.Aliases.Contains(a.ToString())));
            if (match is null) throw new CommandFailedException($"{query} is not an address of any node in the map");
            JsonOutput.Print(parse, json, new WhoisJson(match.Id, match.Address), CliJsonContext.Default.WhoisJson,
                () => Console.WriteLine(match.Id.ToString(CultureInfo.InvariantCulture)));
            return 0;
        });
        return command;
    }

    private static Command Switch(string verb, string name, bool on, string description) =>
        ResultCommand.Create(verb, description, [], AdminJsonContext.Default.NodeSwitchList,
            _ => AdminCall.Run(c => c.SetSwitchAsync(name, on)),
            now => Console.WriteLine(now.On.Count == 0 ? "switches: none" : $"switches: {string.Join(' ', now.On)}"));

    private static Command Bring() =>
        MoveAll("bring",
            "Bring every process of this node that runs elsewhere home, and keep them home (lstay) until nolstay (root only).",
            AdminJsonContext.Default.BringResult, c => c.BringAsync(),
            r => ($"brought {r.Brought.Count} process{(r.Brought.Count == 1 ? "" : "es")} home", r.SwitchesOn, r.Failed), "not brought home");

    private static Command Expel() =>
        MoveAll("expel",
            "Send every guest (process of another node running here) home, and take no more (block) until noblock (root only).",
            AdminJsonContext.Default.ExpelResult, c => c.ExpelAsync(),
            r => ($"sent {r.Expelled.Count} guest{(r.Expelled.Count == 1 ? "" : "s")} home", r.SwitchesOn, r.Failed), "not expelled");

    /// <summary>
    /// bring and expel answer alike: what moved and the switches now on, then one line per process that did not move;
    /// any such process makes the exit status 1.
    /// </summary>
    private static Command MoveAll<T>(string verb, string description, JsonTypeInfo<T> type, Func<AdminClient, Task<T>> call,
        Func<T, (string Moved, IReadOnlyList<string> SwitchesOn, IReadOnlyList<string> Failed)> report, string failure) =>
        ResultCommand.Create(verb, description, [], type, _ => AdminCall.Run(call),
            result =>
            {
                var (moved, switchesOn, failed) = report(result);
                Console.WriteLine($"{moved}; switches: {string.Join(' ', switchesOn)}");
                foreach (var reason in failed) Console.Error.WriteLine($"om: {failure}: {reason}");
            },
            result => report(result).Failed.Count == 0 ? 0 : 1);

    private static Command GetTune() =>
        ResultCommand.Create("gettune",
            "Print every balancer tunable in effect on this node, one per line: its omd.toml name ([balance]), value and unit.",
            [], AdminJsonContext.Default.TuneList, _ => AdminCall.Run(c => c.TuneAsync()), PrintTunables);

    private static Command GetLink() =>
        ResultCommand.Create("getlink",
            "Print this node's node link settings in effect, one per line as omd.toml names them: the port, the record " +
            "ciphers it offers in the order it chooses by (those of link.record_ciphers it can run) and the liveness timings.",
            [], AdminJsonContext.Default.TuneList, _ => AdminCall.Run(c => c.LinkAsync()), PrintTunables);

    private static void PrintTunables(TuneList list)
    {
        var tunables = list.Tunables;
        var nameWidth = tunables.Max(t => t.Name.Length);
        var valueWidth = tunables.Max(t => t.Value.Length);
        foreach (var t in tunables)
            Console.WriteLine($"{t.Name.PadRight(nameWidth)}  {t.Value.PadRight(valueWidth)}  {t.Unit}".TrimEnd());
    }

    private static Command Manage()
    {
        static Option<string?> List(string name, string what) => new(name) { Description = $"{what}, comma-separated (\"\" clears them)." };
        var users = List("--users", "Users whose processes are all candidates: names or uids; * for every regular user (uid 1000-65533)");
        var cgroups = List("--cgroups", "Cgroups whose processes are candidates: a path prefix (/batch) or a path segment (user.slice)");
        var programs = List("--programs", "Programs whose processes are candidates: paths, * and ? as wildcards");
        static IReadOnlyList<string> Split(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return ResultCommand.Create("manage",
            "Show which processes this node hands to openMosix by themselves when they exec a program ([manage] in " +
            "omd.toml), as openMosix made every process a candidate; with options, replace those lists until omd restarts " +
            "(root only). Root's and system users' processes are candidates only when named.",
            [users, cgroups, programs], AdminJsonContext.Default.ManageView,
            parse => AdminCall.Run(async c =>
            {
                var now = await c.ManageAsync().ConfigureAwait(false);
                if (parse.GetValue(users) is null && parse.GetValue(cgroups) is null && parse.GetValue(programs) is null) return now;
                return await c.SetManageAsync(new ManageView(
                    parse.GetValue(users) is { } u ? Split(u) : now.Users,
                    parse.GetValue(cgroups) is { } g ? Split(g) : now.Cgroups,
                    parse.GetValue(programs) is { } p ? Split(p) : now.Programs)).ConfigureAwait(false);
            }),
            view =>
            {
                Console.WriteLine($"users:    {(view.Users.Count == 0 ? "-" : string.Join(", ", view.Users))}");
                Console.WriteLine($"cgroups:  {(view.Cgroups.Count == 0 ? "-" : string.Join(", ", view.Cgroups))}");
                Console.WriteLine($"programs: {(view.Programs.Count == 0 ? "-" : string.Join(", ", view.Programs))}");
            });
    }

    private static Command GetDecay() =>
        ResultCommand.Create("getdecay",
            "Print the half-lives of slow and fast CPU-demand decay on this node, and the decay of processes started without -s/-f/-n.",
            [], AdminJsonContext.Default.DecaySetting, _ => AdminCall.Run(c => c.DecayAsync()), PrintDecay);

    private static Command SetDecay()
    {
        var slow = new Argument<string>("SLOW") { Description = "Half-life of slow decay, in seconds (0.1-86400; omd.toml: 60)." };
        var fast = new Argument<string>("FAST") { Description = "Half-life of fast decay, in seconds (0.1-86400, at most SLOW; omd.toml: 4)." };
        return ResultCommand.Create("setdecay",
            "Change the half-lives of slow and fast CPU-demand decay on this node until omd restarts (root only); " +
            "processes already measured use them from their next sample on. Example: setdecay 60 4.",
            [slow, fast], AdminJsonContext.Default.DecaySetting,
            parse =>
            {
                var slowSeconds = Seconds(parse.GetValue(slow)!);
                var fastSeconds = Seconds(parse.GetValue(fast)!);
                var rates = new OpenMosix.Balancing.Demand.DecayRates(TimeSpan.FromSeconds(slowSeconds), TimeSpan.FromSeconds(fastSeconds));
                if (rates.Problem() is { } problem) throw new UsageException(problem);
                return AdminCall.Run(c => c.SetDecayAsync(slowSeconds, fastSeconds));
            },
            PrintDecay);
    }

    /// <summary>A half-life argument: a plain decimal number of seconds (clamped so TimeSpan cannot overflow; the
    /// range check that follows refuses what was clamped).</summary>
    private static double Seconds(string text) =>
        double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)
            ? Math.Clamp(value, -1e9, 1e9)
            : throw new UsageException($"'{text}' is not a number of seconds");

    private static void PrintDecay(DecaySetting decay)
    {
        Console.WriteLine($"slow     {decay.SlowSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s");
        Console.WriteLine($"fast     {decay.FastSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s");
        Console.WriteLine($"default  {decay.DefaultMode}");
    }

    private static Command SetSpeed()
    {
        var speed = new Argument<long>("SPEED") { Description = "The speed to announce (10000 = the reference CPU)." };
        return ResultCommand.Create("setspeed", "Override this node's calibrated speed (root only); --json prints the speed now announced.",
            [speed], AdminJsonContext.Default.SpeedSetting,
            parse =>
            {
                var value = parse.GetValue(speed);
                if (value is < 1 or > 10_000_000) throw new UsageException("speed must be between 1 and 10000000");
                return AdminCall.Run(c => c.SetSpeedAsync(value));
            },
            _ => { });
    }

    private static NodeRow Find(ClusterView view, int? id)
    {
        var wanted = id ?? view.Self;
        if (wanted is < 1 or > 65535) throw new UsageException($"{wanted} is not a node id (1-65535)");
        return view.Nodes.FirstOrDefault(n => n.Id == wanted)
            ?? throw new CommandFailedException($"node {wanted} is not in the map");
    }

    private static IPAddress[] Resolve(string host)
    {
        try
        {
            return Dns.GetHostAddresses(host);
        }
        catch (System.Net.Sockets.SocketException)
        {
            throw new CommandFailedException($"cannot resolve {host}");
        }
    }
}
