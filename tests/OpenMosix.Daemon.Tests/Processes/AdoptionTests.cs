using OpenMosix.Daemon.Processes;
using OpenMosix.Linux;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Processes;

/// <summary>Which running processes omd may take (om adopt, migrate of any PID), with real processes.</summary>
public sealed class AdoptionTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static ChildProcess Start(string program, params string[] arguments)
    {
        var child = ChildProcess.Start(program, arguments);
        Poll.Until(() => ProcFs.ReadCommandLine(child.Pid).Count > 0, Patience, $"{program} to run");
        return child;
    }

    [Fact]
    public void A_plain_process_of_the_caller_may_be_adopted_and_is_listed_as_adopted()
    {
        using var sleeper = Start("/bin/sleep", "60");
        Assert.Null(AdoptionCheck.Refusal(sleeper.Pid, 0));
        var registry = new ProcessRegistry(1);
        var adopted = registry.Adopt(sleeper.Pid);
        Assert.Equal(("adopted", "/bin/sleep 60"), (registry.Row(adopted).Origin, registry.Row(adopted).Command));
        registry.Update(adopted, p => p.State = ProcessState.Remote);
        var again = Assert.Throws<InvalidOperationException>(() => registry.Adopt(sleeper.Pid));
        Assert.Equal($"process {sleeper.Pid} is already managed and remote", again.Message);
    }

    [Theory]
    [InlineData(1, "process 1 is init")]
    [InlineData(2, "process 2 is a kernel thread")]
    [InlineData(4_000_000, "process 4000000 does not exist")]
    public void Init_kernel_threads_and_missing_processes_are_refused(int pid, string reason)
    {
        Assert.Equal(reason, AdoptionCheck.Refusal(pid, 0));
    }

    [Fact]
    public void Omd_itself_is_refused()
    {
        Assert.Equal($"process {Environment.ProcessId} is omd itself", AdoptionCheck.Refusal(Environment.ProcessId, 0));
    }

    [Fact]
    public void Another_users_process_is_refused_to_a_caller_who_is_not_root()
    {
        using var sleeper = Start("/bin/sleep", "61");
        Assert.Equal($"process {sleeper.Pid} belongs to uid 0; only its owner or root may hand it to openMosix",
            AdoptionCheck.Refusal(sleeper.Pid, 1000));
    }

    [Fact]
    public void A_zombie_is_refused_as_exiting()
    {
        using var shell = Start("/bin/sh", "-c", "/bin/true & exec /bin/sleep 62");
        Poll.Until(() => ProcFs.ReadChildren(shell.Pid).Any(c => ProcFs.ReadStat(c).State == 'Z'), Patience, "a zombie child");
        var zombie = ProcFs.ReadChildren(shell.Pid).First(c => ProcFs.ReadStat(c).State == 'Z');
        Assert.Equal($"process {zombie} is exiting", AdoptionCheck.Refusal(zombie, 0));
    }

    [Fact]
    public void A_process_traced_by_someone_else_is_refused()
    {
        using var strace = Start("/usr/bin/strace", "-o", "/dev/null", "/bin/sleep", "63");
        // strace forks short-lived traced children of its own at start to probe ptrace features: wait for the one
        // that runs sleep, not just any traced child.
        int TracedSleep() => ProcFs.ReadChildren(strace.Pid).FirstOrDefault(c =>
        {
            try { return string.Join(' ', ProcFs.ReadCommandLine(c)) == "/bin/sleep 63" && ProcFs.ReadStatus(c).TracerPid == strace.Pid; }
            catch (ProcessAccessException) { return false; }
        });
        Poll.Until(() => TracedSleep() != 0, Patience, "strace to trace sleep");
        var traced = TracedSleep();
        Assert.Equal($"process {traced} is traced by process {strace.Pid}", AdoptionCheck.Refusal(traced, 0));
    }

    [Fact]
    public void A_process_of_another_pid_namespace_is_refused()
    {
        using var unshare = Start("/usr/bin/unshare", "--pid", "--fork", "/bin/sleep", "64");
        Poll.Until(() => ProcFs.ReadChildren(unshare.Pid).Count == 1, Patience, "the namespaced sleep");
        var inside = ProcFs.ReadChildren(unshare.Pid).Single();
        Assert.StartsWith($"process {inside} is in another pid namespace", AdoptionCheck.Refusal(inside, 0), StringComparison.Ordinal);
    }

    [Fact]
    public void A_process_of_another_user_namespace_is_refused()
    {
        // unshare --user execs sleep in the new namespace itself: same PID, same PID namespace, another user namespace.
        using var inside = Start("/usr/bin/unshare", "--user", "/bin/sleep", "66");
        Poll.Until(() => ProcFs.ReadCommandLine(inside.Pid) is ["/bin/sleep", "66"], Patience, "sleep to run in its user namespace");
        Assert.StartsWith($"process {inside.Pid} is in another user namespace", AdoptionCheck.Refusal(inside.Pid, 0), StringComparison.Ordinal);
    }

    [Fact]
    public void A_process_that_forks_and_execs_all_the_time_can_be_adopted_and_released_again_and_again()
    {
        using var busy = Start("/bin/bash", "-c", "while :; do /bin/true; done");
        var registry = new ProcessRegistry(1);
        for (var i = 0; i < 50; i++)
        {
            Assert.Null(AdoptionCheck.Refusal(busy.Pid, 0));
            var adopted = registry.Adopt(busy.Pid);
            Assert.Equal("adopted", registry.Row(adopted).Origin);
            registry.ForgetEnded(adopted);
            Assert.Null(registry.FindHome(busy.Pid));
        }
    }

    [Fact]
    public void A_process_given_back_after_a_move_that_did_not_happen_takes_what_it_forked_meanwhile_with_it()
    {
        using var shell = Start("/bin/sh", "-c", "/bin/sleep 67 & wait");
        var registry = new ProcessRegistry(1);
        var adopted = registry.Adopt(shell.Pid);
        Poll.Until(() => ProcFs.ReadChildren(shell.Pid).Count == 1, Patience, "the shell's job");
        var job = ProcFs.ReadChildren(shell.Pid).Single();
        Assert.NotNull(registry.RegisterChild(job, shell.Pid));
        using var other = Start("/bin/sleep", "68");
        registry.Adopt(other.Pid);

        registry.GiveBack(adopted);
        Assert.Equal([other.Pid], registry.HomePids());
    }

    [Fact]
    public void A_process_adopted_while_it_execs_is_listed_with_the_program_it_runs_afterwards()
    {
        var registry = new ProcessRegistry(1);
        using var execer = ChildProcess.Start("/bin/sh", ["-c", "sleep 0.05; exec /bin/sleep 65"]);
        var adopted = registry.Adopt(execer.Pid);
        Poll.Until(() => registry.Row(adopted).Command == "/bin/sleep 65", Patience, "the row to show the program it exec'd");
    }
}
