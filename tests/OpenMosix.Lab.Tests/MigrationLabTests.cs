using System.Text.RegularExpressions;
using System.Globalization;
using System.Text.Json;
using OpenMosix.Admin;
using OpenMosix.Lab.Tests.Support;
using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests;

/// <summary>A 3-node lab with omd in every node, shared by the migration tests (each uses its own processes).</summary>
public sealed class MigrationLab : IDisposable
{
    // Node 3 is small (256 MiB): a node that must refuse a big process for want of memory.
    // No automatic balancing: these tests move processes themselves and must find them where they put them.
    internal TestLab Lab { get; } = TestLab.WithDaemons(3, "--timeout", "15", "--mem", "4G,4G,256M", "--no-balance");

    public void Dispose() => Lab.Dispose();
}

/// <summary>Issue #5 end to end: real programs started with `om run` in node 1 and moved while they run.</summary>
public sealed class MigrationLabTests(MigrationLab fixture) : IClassFixture<MigrationLab>
{
    private readonly TestLab _lab = fixture.Lab;

    [Fact]
    public void A_program_moved_to_another_node_keeps_writing_to_the_same_pipe_and_its_parent_gets_its_exit_status()
    {
        using var run = Managed(1, TestPrograms.Locate("exitcode"), "3", "60", "40");
        run.WaitForLines(5);
        Migrate(1, run.Pid, "2");
        Assert.Equal("2", _lab.Exec(1, Om.Path, "where", $"{run.Pid}").Succeeded().Stdout.Trim());
        Assert.Equal(new ChildExit(3, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Equal(Enumerable.Range(0, 60).Select(i => $"tick {i}"), run.Lines().Where(l => l.StartsWith("tick", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_program_that_kills_itself_remotely_dies_of_the_same_signal_at_home()
    {
        using var run = Managed(1, TestPrograms.Locate("killself"), "40", "40");
        run.WaitForLines(3);
        Migrate(1, run.Pid, "3");
        Assert.Equal(new ChildExit(0, Signals.SIGTERM), run.Process.WaitForExit(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void A_signal_sent_to_the_home_pid_reaches_the_remote_copy_and_its_death_is_mirrored()
    {
        using var run = Managed(1, TestPrograms.Locate("sleeper"), "400", "50");
        run.WaitForLines(2);
        Migrate(1, run.Pid, "2");
        var printed = run.Lines().Count;
        run.WaitForLines(printed + 2);
        // Plain kill(1) of the PID the shell knows: the copy on node 2 must get it and die of it.
        Signals.Kill(run.Pid, Signals.SIGTERM);
        Assert.Equal(new ChildExit(0, Signals.SIGTERM), run.Process.WaitForExit(TimeSpan.FromSeconds(20)));
        Poll.Until(() => Processes(2).Processes.All(p => p.RemotePid != run.Pid), TimeSpan.FromSeconds(10), "the copy to be gone");
    }

    [Fact]
    public void A_program_reading_a_pipe_keeps_reading_it_after_the_move()
    {
        var (stdinRead, stdinWrite) = Descriptors.CreatePipe();
        using var run = Managed(1, [TestPrograms.Locate("pipereader")], stdinRead);
        stdinRead.Dispose();
        using var feed = new StreamWriter(new FileStream(stdinWrite, FileAccess.Write)) { AutoFlush = true };
        for (var i = 0; i < 50; i++) feed.WriteLine($"line {i}");
        run.WaitForLines(50);
        Migrate(1, run.Pid, "3");
        for (var i = 50; i < 100; i++) feed.WriteLine($"line {i}");
        feed.Close();
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(20)));
        var lines = run.Lines();
        Assert.Equal(101, lines.Count);
        Assert.Contains("LINE 99", lines[99], StringComparison.Ordinal);
        Assert.StartsWith("pipereader done lines=100 ", lines[100], StringComparison.Ordinal);
    }

    [Fact]
    public void The_memory_of_a_moved_process_arrives_intact_without_pre_copy()
    {
        using var run = Managed(1, TestPrograms.Locate("memticker"), "200", "40", "50");
        run.WaitForLines(3);
        var moved = _lab.Exec(1, Om.Path, "migrate", $"{run.Pid}", "2", "--no-precopy").Succeeded();
        var frozen = Regex.Match(moved.Stderr, @"moved from node 1 to node 2 \((\d+\.\d) MiB, frozen \d+ ms\)");
        Assert.True(frozen.Success, moved.Stderr);
        Assert.True(double.Parse(frozen.Groups[1].Value, CultureInfo.InvariantCulture) >= 200, "all of it travels frozen");
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Equal(ReferenceSum(200), run.Lines()[^1]);
    }

    [Fact]
    public void A_pre_copied_process_is_frozen_only_for_what_it_changed_and_its_memory_arrives_intact()
    {
        using var run = Managed(1, TestPrograms.Locate("memticker"), "200", "40", "50");
        run.WaitForLines(3);
        var moved = _lab.Exec(1, Om.Path, "migrate", $"{run.Pid}", "2").Succeeded();
        var match = Regex.Match(moved.Stderr, @"\((\d+\.\d) MiB, frozen \d+ ms, after \d pre-copy rounds? of (\d+\.\d) MiB while it ran");
        Assert.True(match.Success, moved.Stderr);
        Assert.True(double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) < 20, $"little travels frozen: {moved.Stderr}");
        Assert.True(double.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture) >= 200, $"the rest went before: {moved.Stderr}");
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Equal(ReferenceSum(200), run.Lines()[^1]);
    }

    [Fact]
    public void A_process_rewriting_discarding_and_remapping_its_memory_during_the_pre_copy_finishes_like_an_uninterrupted_run()
    {
        string[] arguments = ["96", "150", "10"];
        var reference = CommandRun.Run(TestPrograms.Locate("churner"), arguments).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        using var run = Managed(1, TestPrograms.Locate("churner"), arguments);
        run.WaitForLines(5);
        var moved = _lab.Exec(1, Om.Path, "migrate", $"{run.Pid}", "2").Succeeded();
        Assert.Contains("pre-copy round", moved.Stderr, StringComparison.Ordinal);
        run.WaitForLines(run.Lines().Count + 10);
        Migrate(1, run.Pid, "home");
        run.WaitForLines(run.Lines().Count + 10);
        Migrate(1, run.Pid, "3");
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Equal(reference, run.Lines());
    }

    [Fact]
    public void A_node_without_room_for_the_process_refuses_it_and_the_process_runs_on_at_home()
    {
        using var run = Managed(1, TestPrograms.Locate("memticker"), "400", "60", "50");
        run.WaitForLines(2);
        var refused = _lab.Exec(1, Om.Path, "migrate", $"{run.Pid}", "3");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("node 3 refused", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("not enough memory", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Equal(ReferenceSum(400), run.Lines()[^1]);
    }

    /// <summary>What memticker prints at the end for MB megabytes, from a run that never moved.</summary>
    internal static string ReferenceSum(int mb) =>
        CommandRun.Run(TestPrograms.Locate("memticker"), [$"{mb}", "0"]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];

    [Fact]
    public void A_program_moved_back_and_forth_fifty_times_and_across_all_nodes_prints_exactly_what_it_would_have()
    {
        using var run = Managed(1, TestPrograms.Locate("counter"), "1500");
        run.WaitForLines(5);
        var targets = Enumerable.Range(0, 25).SelectMany(_ => new[] { "2", "home" }).Concat(["2", "3", "home", "3", "2", "home"]).ToList();
        foreach (var target in targets)
            Migrate(1, run.Pid, target);
        Assert.Equal(targets.Count + 2, Processes(1).Processes.Single(p => p.Pid == run.Pid).Migrations);
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(90)));
        Assert.Equal(CounterLines(1500), run.Lines());
    }

    [Fact]
    public void A_python_program_moved_away_and_back_finishes_with_the_output_of_an_uninterrupted_run()
    {
        const string Script = "import time\nfor i in range(120):\n    print(i, i * i % 9973, flush=True)\n    time.sleep(0.02)\n";
        var reference = CommandRun.Run("/usr/bin/python3", ["-c", Script]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        using var run = Managed(1, "/usr/bin/python3", "-c", Script);
        run.WaitForLines(10);
        Migrate(1, run.Pid, "3");
        run.WaitForLines(run.Lines().Count + 10);
        Migrate(1, run.Pid, "home");
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Equal(reference, run.Lines());
    }

    [Fact]
    public void A_one_gigabyte_process_leaves_a_deputy_of_under_two_megabytes_at_home()
    {
        using var run = Managed(1, TestPrograms.Locate("memticker"), "1024", "100", "50");
        run.WaitForLines(2);
        Assert.True(Rss(run.Pid) > 1000L << 20);
        Migrate(1, run.Pid, "2");
        Assert.InRange(Rss(run.Pid), 0, 2L << 20);
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Equal(ReferenceSum(1024), run.Lines()[^1]);
    }

    [Fact]
    public void A_guest_runs_with_its_owners_credentials_never_more()
    {
        using var run = Managed(1, ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", Om.Path, "run", TestPrograms.Locate("sleeper"), "300", "50"], null);
        run.WaitForLines(2);
        Migrate(1, run.Pid, "2");
        var guest = Processes(2).Processes.Single(p => p.RemotePid == run.Pid);
        var ids = File.ReadLines($"/proc/{guest.Pid}/status").Where(l => l.StartsWith("Uid:", StringComparison.Ordinal) || l.StartsWith("Gid:", StringComparison.Ordinal))
            .Select(l => l.Split('\t', StringSplitOptions.RemoveEmptyEntries).Skip(1).Distinct().Single()).ToList();
        Assert.Equal(["65534", "65534"], ids);
        Assert.Equal(65534, guest.Uid);
        Signals.Kill(run.Pid, Signals.SIGTERM);
        Assert.Equal(new ChildExit(0, Signals.SIGTERM), run.Process.WaitForExit(TimeSpan.FromSeconds(20)));
    }

    [Theory]
    [InlineData("xz", 400_000, "-T1", "-6", "-c")]
    [InlineData("gzip", 3_000_000, "-9", "-c")]
    public void A_compressor_moved_mid_file_writes_the_same_bytes_as_an_uninterrupted_run(string program, int lines, params string[] options)
    {
        var input = Path.Combine(_lab.Layout.NodeDirectory(1), $"input-{program}");
        var random = new Random(5);
        using (var file = File.Create(input))
            for (var i = 0; i < lines; i++) file.Write(System.Text.Encoding.ASCII.GetBytes($"{i} {random.Next(1000)} openMosix\n"));
        var output = input + ".out";
        using var run = Managed(1, ["sh", "-c", $"exec {Om.Path} run /usr/bin/{program} {string.Join(' ', options)} {input} > {output}"], null);
        Poll.Until(() => File.Exists(output) && new FileInfo(output).Length > 0 || run.Process.HasExited, TimeSpan.FromSeconds(20), "the compressor to start writing");
        Assert.False(run.Process.HasExited, "the compressor finished before it could be moved; give it a larger input");
        Migrate(1, run.Pid, "3");
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(120)));
        var expected = RunToBytes($"/usr/bin/{program}", [.. options, input]);
        Assert.Equal(expected, File.ReadAllBytes(output));
    }

    [Fact]
    public void The_middle_of_a_pipeline_moves_and_the_pipeline_produces_what_it_would_have()
    {
        var output = Path.Combine(_lab.Layout.NodeDirectory(1), $"pipeline-{Guid.NewGuid():N}.out");
        const string Producer = "i=0; while [ $i -lt 400 ]; do echo \"line $i\"; i=$((i+1)); sleep 0.01; done";
        var reference = CommandRun.Run("sh", ["-c", $"{Producer} | {TestPrograms.Locate("pipereader")}"]).Stdout;
        using var run = Managed(1, ["sh", "-c", $"{Producer} | {Om.Path} run {TestPrograms.Locate("pipereader")} | cat > {output}"], null);
        ProcessRow? filter = null;
        Poll.Until(() => (filter = Processes(1).Processes.FirstOrDefault(p => p.Command.Contains("pipereader", StringComparison.Ordinal)
            && !p.Command.Contains(" run ", StringComparison.Ordinal))) is not null, TimeSpan.FromSeconds(20), "the filter to start");
        Poll.Until(() => File.Exists(output) && new FileInfo(output).Length > 0, TimeSpan.FromSeconds(20), "output from the filter");
        Migrate(1, filter!.Pid, "2");
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Equal(reference, File.ReadAllText(output));
    }

    [Fact]
    public void A_node_without_the_programs_files_refuses_it_and_it_runs_on_at_home()
    {
        // /run/openmosix is each node's own: a program copied there exists in node 1 only.
        var copy = Path.Combine(_lab.Layout.NodeHostRunDirectory(1), $"sleeper-{Guid.NewGuid():N}");
        File.Copy(TestPrograms.Locate("sleeper"), copy);
        File.SetUnixFileMode(copy, (UnixFileMode)0b111_101_101);
        var inNode = $"/run/openmosix/{Path.GetFileName(copy)}";
        using var run = Managed(1, inNode, "60", "50");
        run.WaitForLines(2);
        var refused = _lab.Exec(1, Om.Path, "migrate", $"{run.Pid}", "2");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains($"node 2 refused process {run.Pid}: {inNode} does not exist on this node", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.StartsWith("sleeper done ticks=60", run.Lines()[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void Bc_moved_in_the_middle_of_a_long_calculation_prints_the_same_digits()
    {
        const string Program = "scale=2000; for (i = 1; i <= 8; i++) { print i, \": \", a(1/i), \"\\n\" }";
        var reference = CommandRun.Run("/usr/bin/bc", ["-l"], stdin: Program + "\n").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var script = Path.Combine(_lab.Layout.NodeDirectory(1), $"calc-{Guid.NewGuid():N}.bc");
        File.WriteAllText(script, Program + "\nquit\n");
        using var run = Managed(1, "/usr/bin/bc", "-l", script);
        run.WaitForLines(1);
        Migrate(1, run.Pid, "2");
        Assert.Equal(new ChildExit(0, 0), run.Process.WaitForExit(TimeSpan.FromSeconds(120)));
        Assert.Equal(reference, run.Lines());
    }

    [Fact]
    public void An_interactive_program_in_a_terminal_keeps_answering_while_it_runs_on_another_node()
    {
        var session = $"om{Guid.NewGuid():N}"[..12];
        string Screen() => CommandRun.Run("tmux", ["capture-pane", "-t", session, "-p"]).Stdout;
        void Type(string keys) => CommandRun.Run("tmux", ["send-keys", "-t", session, keys, "Enter"]);
        var started = CommandRun.Run("tmux", ["new-session", "-d", "-s", session, "-x", "100", "-y", "30",
            $"{Om.Path} lab exec --name {_lab.Name} 1 -- {Om.Path} run /usr/bin/bc -l; echo EXITED $?; sleep 60"]);
        Assert.True(started.ExitCode == 0, started.ToString());
        try
        {
            Type("2+2");
            Poll.Until(() => Screen().Split('\n').Any(l => l.Trim() == "4"), TimeSpan.FromSeconds(20), "bc to answer 4 at home");
            var bc = Processes(1).Processes.Single(p => p.Command.Contains("/usr/bin/bc", StringComparison.Ordinal) && p.State == "home");
            Migrate(1, bc.Pid, "2");
            Type("3*7");
            // bc block-buffers its output unless it sees a terminal: an answer per line shows the copy got one.
            Poll.Until(() => Screen().Split('\n').Any(l => l.Trim() == "21"), TimeSpan.FromSeconds(20), "bc to answer 21 from node 2");
            Assert.Equal("remote", Processes(1).Processes.Single(p => p.Pid == bc.Pid).State);
            Type("quit");
            Poll.Until(() => Screen().Contains("EXITED 0", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "bc to quit with status 0");
        }
        finally
        {
            CommandRun.Run("tmux", ["kill-session", "-t", session]);
        }
    }

    private static byte[] RunToBytes(string program, string[] arguments)
    {
        var info = new System.Diagnostics.ProcessStartInfo(program, arguments) { RedirectStandardOutput = true };
        using var process = System.Diagnostics.Process.Start(info)!;
        using var bytes = new MemoryStream();
        process.StandardOutput.BaseStream.CopyTo(bytes);
        process.WaitForExit();
        return bytes.ToArray();
    }

    private static long Rss(int pid) =>
        long.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;

    private static List<string> CounterLines(int count)
    {
        var lines = new List<string>();
        var sum = 1469598103934665603UL;
        for (var i = 0; i < count; i++)
        {
            sum = (sum ^ (ulong)i) * 1099511628211UL;
            lines.Add($"{i} {sum:x16}");
        }
        return lines;
    }

    /// <summary>
    /// After the move the program still owns its terminal: a resize reaches it with the new size, the modes it sets
    /// remotely (cbreak: no echo, a key at a time) take effect on the real terminal at home, and back again, and ^D
    /// is one end of input, not the end of the terminal.
    /// </summary>
    [Fact]
    public void A_moved_program_sees_terminal_resizes_and_its_terminal_mode_changes_take_effect_at_home()
    {
        const string Script = """
            import os, signal, termios, tty
            signal.signal(signal.SIGWINCH, lambda *a: print("size %dx%d" % tuple(os.get_terminal_size()), flush=True))
            print("ready", flush=True)
            print("got", os.read(0, 100).decode().strip(), flush=True)
            old = termios.tcgetattr(0)
            tty.setcbreak(0)
            print("cbreak", flush=True)
            print("char", os.read(0, 1).decode(), flush=True)
            termios.tcsetattr(0, termios.TCSADRAIN, old)
            print("got", os.read(0, 100).decode().strip(), flush=True)
            print("eof", len(os.read(0, 100)), flush=True)
            print("got", os.read(0, 100).decode().strip(), flush=True)
            """;
        var script = Path.Combine(_lab.Layout.NodeDirectory(1), $"tty-{Guid.NewGuid():N}.py");
        File.WriteAllText(script, Script);
        var session = $"om{Guid.NewGuid():N}"[..12];
        List<string> Lines() => [.. CommandRun.Run("tmux", ["capture-pane", "-t", session, "-p"]).Stdout.Split('\n').Select(l => l.Trim())];
        void Keys(params string[] keys) => CommandRun.Run("tmux", ["send-keys", "-t", session, .. keys]);
        void Shows(string line, string what) => Poll.Until(() => Lines().Contains(line), TimeSpan.FromSeconds(20), what);
        var started = CommandRun.Run("tmux", ["new-session", "-d", "-s", session, "-x", "100", "-y", "30",
            $"{Om.Path} lab exec --name {_lab.Name} 1 -- {Om.Path} run /usr/bin/python3 {script}; echo EXITED $?; sleep 60"]);
        Assert.True(started.ExitCode == 0, started.ToString());
        try
        {
            Shows("ready", "the program to start");
            var python = Processes(1).Processes.Single(p => p.Command.Contains(script, StringComparison.Ordinal));
            Migrate(1, python.Pid, "2");
            CommandRun.Run("tmux", ["resize-window", "-t", session, "-x", "90", "-y", "25"]);
            Shows("size 90x25", "the moved program to see the new window size");
            Keys("hello", "Enter");
            Shows("got hello", "a line typed at home to reach the program");
            Assert.Single(Lines(), l => l == "hello");
            Shows("cbreak", "the program to switch its terminal to cbreak");
            Keys("x");
            Shows("char x", "a single key to reach the program without Enter");
            Assert.DoesNotContain("x", Lines());
            Assert.Equal("remote", Processes(1).Processes.Single(p => p.Pid == python.Pid).State);
            Keys("bye", "Enter");
            Shows("got bye", "the terminal to be back in line mode");
            Assert.Single(Lines(), l => l == "bye");
            // ^D is an empty read for the program, and the terminal stays usable after it.
            Keys("C-d");
            Shows("eof 0", "^D to reach the program as an end of input");
            Keys("again", "Enter");
            Shows("got again", "input after ^D to reach the program");
            Shows("EXITED 0", "the program to end with status 0");
        }
        finally
        {
            CommandRun.Run("tmux", ["kill-session", "-t", session]);
        }
    }

    [Fact]
    public void Om_ps_shows_a_moved_process_remote_at_home_and_as_a_guest_where_it_runs()
    {
        using var run = Managed(1, TestPrograms.Locate("sleeper"), "200", "50");
        run.WaitForLines(2);
        Migrate(1, run.Pid, "2");
        var home = Processes(1).Processes.Single(p => p.Pid == run.Pid);
        Assert.Equal(("remote", 1, 2, 1), (home.State, home.Home, home.Where, home.Migrations));
        var guest = Processes(2).Processes.Single(p => p.RemotePid == run.Pid);
        Assert.Equal(("guest", 1), (guest.State, guest.Home));
        Signals.Kill(run.Pid, Signals.SIGKILL);
        Assert.Equal(new ChildExit(0, Signals.SIGKILL), run.Process.WaitForExit(TimeSpan.FromSeconds(10)));
        Poll.Until(() => Processes(2).Processes.All(p => p.RemotePid != run.Pid), TimeSpan.FromSeconds(10),
            "the guest to die with its deputy");
    }

    [Fact]
    public void A_process_that_cannot_move_is_refused_with_its_reasons_and_runs_on_untouched()
    {
        using var run = Managed(1, TestPrograms.Locate("threaded"));
        run.WaitForLines(1);
        var refused = _lab.Exec(1, Om.Path, "migrate", $"{run.Pid}", "2");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("cannot move", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("threads", refused.Stderr, StringComparison.Ordinal);
        Assert.False(run.Process.HasExited);
        Assert.Equal("1", _lab.Exec(1, Om.Path, "where", $"{run.Pid}").Succeeded().Stdout.Trim());
    }

    [Fact]
    public void A_move_to_a_node_whose_daemon_is_down_fails_clearly_and_the_process_runs_on_at_home()
    {
        using var run = Managed(1, TestPrograms.Locate("counter"), "400");
        run.WaitForLines(3);
        var refused = _lab.Exec(1, Om.Path, "migrate", $"{run.Pid}", "9");
        Assert.Equal(1, refused.ExitCode);
        Assert.Equal("om: node 9 is not in the map\n", refused.Stderr);
        var before = run.Lines().Count;
        run.WaitForLines(before + 3);
        Assert.Equal("home", Processes(1).Processes.Single(p => p.Pid == run.Pid).State);
    }

    [Fact]
    public void A_user_cannot_move_another_users_process()
    {
        using var run = Managed(1, TestPrograms.Locate("counter"), "400");
        run.WaitForLines(2);
        var attempt = _lab.Exec(1, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", Om.Path, "migrate", $"{run.Pid}", "2");
        Assert.Equal(1, attempt.ExitCode);
        Assert.Contains("only its owner or root may move it", attempt.Stderr, StringComparison.Ordinal);
        Assert.Equal("home", Processes(1).Processes.Single(p => p.Pid == run.Pid).State);
    }

    private void Migrate(int node, int pid, string target) =>
        _lab.Exec(node, Om.Path, "migrate", $"{pid}", target).Succeeded();

    private ProcessList Processes(int node) =>
        JsonSerializer.Deserialize(_lab.Exec(node, Om.Path, "ps", "--json").Succeeded().Stdout, AdminJsonContext.Default.ProcessList)!;

    /// <summary>`om lab exec NODE -- om run PROGRAM ARGS` as a child of the test, stdout into a file the test reads.</summary>
    private ManagedRun Managed(int node, string program, params string[] arguments) => Managed(node, [program, .. arguments], null);

    private ManagedRun Managed(int node, string[] command, Microsoft.Win32.SafeHandles.SafeFileHandle? stdin)
    {
        var output = Path.Combine(_lab.Layout.NodeDirectory(node), $"run-{Guid.NewGuid():N}.out");
        // A pipe, not the file itself: a file would be reopened by path on the other node, a pipe must be relayed.
        var (read, write) = Descriptors.CreatePipe();
        var process = ChildProcess.Start(Om.Path, ["lab", "exec", "--name", _lab.Name, $"{node}", "--", Om.Path, "run", .. command],
            stdin: stdin, stdout: write);
        write.Dispose();
        return new ManagedRun(process, read, output);
    }

    internal sealed class ManagedRun : IDisposable
    {
        private readonly List<string> _lines = [];
        private readonly Thread _reader;

        public ManagedRun(ChildProcess process, Microsoft.Win32.SafeHandles.SafeFileHandle stdout, string copy)
        {
            Process = process;
            _reader = new Thread(() =>
            {
                using var reader = new StreamReader(new FileStream(stdout, FileAccess.Read));
                while (reader.ReadLine() is { } line)
                {
                    lock (_lines) _lines.Add(line);
                    File.AppendAllText(copy, line + "\n");
                }
            }) { IsBackground = true };
            _reader.Start();
        }

        public ChildProcess Process { get; }
        public int Pid => Process.Pid;

        public IReadOnlyList<string> Lines()
        {
            if (Process.HasExited) _reader.Join(TimeSpan.FromSeconds(10));
            lock (_lines) return [.. _lines];
        }

        public void WaitForLines(int count) =>
            Poll.Until(() => Lines().Count >= count, TimeSpan.FromSeconds(20), $"{count} lines from process {Pid}");

        public void Dispose() => Process.Dispose();
    }
}
