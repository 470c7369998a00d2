using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using OpenMosix.Checkpoint.Restore;
using OpenMosix.Linux;

namespace OpenMosix.Checkpoint.Tests.Restore;

/// <summary>
/// Room in a deputy's descriptor table (issue #15): its soft limit is raised just enough for the number wanted and
/// the free numbers asked for, counted below the limit (a deputy's descriptors got away sit at the top of its range,
/// so counting above its highest asked for more than its hard limit).
/// </summary>
public sealed class DeputyRoomTests
{
    [Fact]
    public void Free_numbers_are_counted_below_the_limit_around_those_held()
    {
        HashSet<int> open = [0, 1, 2, 3, 5, 1020, 1023];
        Assert.Equal(7UL, DeputyRoom.Needed(open, -1, 2)); // 4 and 6 free: the limit 7 holds both
        Assert.Equal(1024UL, DeputyRoom.Needed(open, 1023, 3)); // the number itself decides
        Assert.Equal(0UL, DeputyRoom.Needed(new HashSet<int>(), -1, 0));
    }

    /// <summary>A python3 child with a descriptor limit of 20 (soft) and 40 (hard), /dev/null open up to 12, waiting.</summary>
    private const string Child = """
        import os, resource, sys
        resource.setrlimit(resource.RLIMIT_NOFILE, (20, 40))
        held = []
        while not held or held[-1] < 12:
            held.append(os.open("/dev/null", os.O_RDONLY))
        print("ready", flush=True)
        sys.stdin.readline()
        """;

    [Fact]
    public void A_deputys_soft_limit_is_raised_only_as_far_as_needed_and_its_hard_one_only_past_it()
    {
        using var child = Process.Start(new ProcessStartInfo("python3", ["-c", Child]) { RedirectStandardInput = true, RedirectStandardOutput = true })!;
        try
        {
            Assert.Equal("ready", child.StandardOutput.ReadLine());
            // 0-12 held (python may hold a few more of its own): 7 free numbers below 20 at most, so 3 need no change.
            Assert.True(DeputyRoom.Ensure(child.Id, 19, 3, NullLogger.Instance));
            Assert.Equal((20UL, 40UL), Limit(child.Id));
            // 25 free: above 20 (how far depends on what else python3 holds), within the hard limit, which stays.
            var held = Directory.GetFiles($"/proc/{child.Id}/fd").Select(f => int.Parse(Path.GetFileName(f), System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
            Assert.True(DeputyRoom.Ensure(child.Id, -1, 25, NullLogger.Instance));
            var (soft, hard) = Limit(child.Id);
            Assert.Equal((DeputyRoom.Needed(held, -1, 25), 40UL), (soft, hard));
            Assert.InRange(soft, 25UL + 13, 39UL);
            // Past the hard limit: raised too where omd may (CAP_SYS_RESOURCE); where it may not (as on the machine
            // this was written on: root without CAP_SYS_RESOURCE), the soft limit goes up to the hard one and no further.
            var mayRaise = MayRaiseHardLimits();
            Assert.Equal(mayRaise, DeputyRoom.Ensure(child.Id, 50, 0, NullLogger.Instance));
            Assert.Equal(mayRaise ? (51UL, 51UL) : (40UL, 40UL), Limit(child.Id));
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
        }
    }

    private static bool MayRaiseHardLimits()
    {
        var effective = File.ReadLines("/proc/self/status").Single(l => l.StartsWith("CapEff:", StringComparison.Ordinal))["CapEff:".Length..].Trim();
        return (ulong.Parse(effective, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture) & (1UL << 24)) != 0;
    }

    private static (ulong Soft, ulong Hard) Limit(int pid)
    {
        var limit = ResourceLimits.Get(pid, ResourceLimits.RLIMIT_NOFILE);
        return (limit.Current, limit.Maximum);
    }
}
