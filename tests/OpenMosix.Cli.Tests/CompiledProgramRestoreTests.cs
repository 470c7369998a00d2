using OpenMosix.Cli.Tests.Support;
using static OpenMosix.Cli.Tests.Support.Scenario;

namespace OpenMosix.Cli.Tests;

/// <summary>C targets (tests/Programs) checkpointed mid-computation and restored: memory, registers and kernel state.</summary>
public sealed class CompiledProgramRestoreTests
{
    internal static ProcessSpec Target(string dir, string program, params string[] arguments) =>
        new(TestPaths.Program(program), arguments, dir);

    [Fact]
    public Task Heap_of_small_mallocs_keeps_growing_and_trimming_after_restore() => CheckpointFlow.RunAsync(new Scenario
    {
        Key = "heapsum 64 40",
        Command = dir => Target(dir, "heapsum", "64", "40"),
        Ready = PrintedLines(3),
        ReadyDescription = "heapsum built its 64 MB heap and ran two rounds",
        MaxExtraDelay = TimeSpan.FromMilliseconds(1000),
    });

    [Fact]
    public Task A_program_with_two_worker_threads_finishes_with_the_same_sums_after_restore() => CheckpointFlow.RunAsync(new Scenario
    {
        Key = "threaded 40 50",
        Command = dir => Target(dir, "threaded", "40", "50"),
        Ready = PrintedLines(3),
        ReadyDescription = "threaded printed three ticks while its workers compute",
        MaxExtraDelay = TimeSpan.FromMilliseconds(1000),
    });

    /// <summary>thr_state's four threads check their own mask, pending signals, alternate stack, name, nice, policy,
    /// rseq and robust-list registrations, gs base and cached tid every round: through om checkpoint and om restore.</summary>
    [Fact]
    public Task Every_threads_own_kernel_state_survives_om_checkpoint_and_om_restore() => CheckpointFlow.RunAsync(new Scenario
    {
        Key = "thr_state 40 50",
        Command = dir => Target(dir, "thr_state", "40", "50"),
        Ready = PrintedLines(8),
        ReadyDescription = "thr_state's threads checked their state eight times",
        MaxExtraDelay = TimeSpan.FromMilliseconds(1000),
    });

    [Fact]
    public Task Anonymous_shared_memory_only_this_process_maps_comes_back_shared_with_its_contents() => CheckpointFlow.RunAsync(new Scenario
    {
        Key = "sharedmap 40 50",
        Command = dir => Target(dir, "sharedmap", "40", "50"),
        Ready = PrintedLines(3),
        ReadyDescription = "sharedmap updated its shared memory three times",
        MaxExtraDelay = TimeSpan.FromMilliseconds(1000),
    });

    [Fact]
    public Task Vector_registers_live_across_the_checkpoint_give_identical_results() => CheckpointFlow.RunAsync(new Scenario
    {
        Key = "avxmath 60",
        Command = dir => Target(dir, "avxmath", "60"),
        Ready = PrintedLines(2),
        ReadyDescription = "avxmath finished two blocks",
        MaxExtraDelay = TimeSpan.FromMilliseconds(900),
    });

    [Fact]
    public Task Monotonic_clock_through_the_vdso_keeps_going_forward_after_restore() => CheckpointFlow.RunAsync(new Scenario
    {
        Key = "clockwatch 60 30",
        Command = dir => Target(dir, "clockwatch", "60", "30"),
        Ready = PrintedLines(3),
        ReadyDescription = "clockwatch finished three rounds",
        MaxExtraDelay = TimeSpan.FromMilliseconds(1000),
    });

    [Fact]
    public Task Signal_handlers_mask_pending_signal_and_interval_timer_survive_restore() => CheckpointFlow.RunAsync(new Scenario
    {
        Key = "signals 60 25",
        Command = dir => Target(dir, "signals", "60", "25"),
        Ready = PrintedLines(2),
        ReadyDescription = "signals has a pending SIGUSR2 and counted four timer ticks",
        MaxExtraDelay = TimeSpan.FromMilliseconds(1500),
    });

    [Fact]
    public Task Private_file_mappings_keep_the_file_view_and_the_modified_copy() => CheckpointFlow.RunAsync(new Scenario
    {
        Key = "filemap mapped.bin(4MB) 80 20",
        Prepare = dir => InputFiles.WriteRandom(Path.Combine(dir, "mapped.bin"), 4 << 20, 0xf11e),
        Command = dir => Target(dir, "filemap", "mapped.bin", "80", "20"),
        Ready = PrintedLines(3),
        ReadyDescription = "filemap mapped its file and ran two rounds",
        MaxExtraDelay = TimeSpan.FromMilliseconds(1200),
        CollectFiles = dir => CheckpointFlow.ReadFiles(dir, "mapped.bin"),
    });
}
