using OpenMosix.Linux.Proc;

namespace OpenMosix.Daemon.Web.Metrics;

/// <summary>omd's own process, under the names every Prometheus client library gives them (process_*, dotnet_*).</summary>
internal static class OwnProcessMetrics
{
    public static void Write(ExpositionWriter writer, DateTimeOffset startedAt)
    {
        var pid = Environment.ProcessId;
        writer.Family("process_cpu_seconds_total", "counter", "CPU time omd has used (user and system), in seconds.");
        writer.Sample("process_cpu_seconds_total", Environment.CpuUsage.TotalTime.TotalSeconds);
        writer.Family("process_resident_memory_bytes", "gauge", "omd's resident memory.");
        writer.Sample("process_resident_memory_bytes", ProcFs.ReadResidentBytes(pid));
        writer.Family("process_start_time_seconds", "gauge", "When omd started, in seconds since the epoch.");
        writer.Sample("process_start_time_seconds", startedAt.ToUnixTimeMilliseconds() / 1000.0);
        writer.Family("process_open_fds", "gauge", "Descriptors omd holds open.");
        writer.Sample("process_open_fds", Directory.EnumerateFileSystemEntries("/proc/self/fd").Count());
        writer.Family("process_threads", "gauge", "omd's threads.");
        writer.Sample("process_threads", ProcFs.ReadTasks(pid).Count);
        writer.Family("dotnet_total_memory_bytes", "gauge", "Bytes of omd's managed heap in use.");
        writer.Sample("dotnet_total_memory_bytes", GC.GetTotalMemory(forceFullCollection: false));
    }
}
