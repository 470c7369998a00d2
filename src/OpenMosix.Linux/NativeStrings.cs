using System.Text;

namespace OpenMosix.Linux;

/// <summary>NUL-terminated UTF-8 strings and argv/envp arrays in native memory, for posix_spawn and execve.</summary>
internal static class NativeStrings
{
    /// <summary>Allocates a C string; the pointer is added to <paramref name="owned"/>, which the caller frees.</summary>
    public static unsafe nint Utf8(string s, List<nint> owned)
    {
        var bytes = Encoding.UTF8.GetByteCount(s);
        var p = (byte*)NativeMemory.Alloc((nuint)bytes + 1);
        Encoding.UTF8.GetBytes(s, new Span<byte>(p, bytes));
        p[bytes] = 0;
        owned.Add((nint)p);
        return (nint)p;
    }

    /// <summary>A NULL-terminated array of C strings (argv, envp); every allocation goes into <paramref name="owned"/>.</summary>
    public static unsafe nint NullTerminated(IReadOnlyList<string> items, List<nint> owned)
    {
        var array = (nint*)NativeMemory.AllocZeroed((nuint)(items.Count + 1), (nuint)sizeof(nint));
        owned.Add((nint)array);
        for (var i = 0; i < items.Count; i++) array[i] = Utf8(items[i], owned);
        return (nint)array;
    }

    public static unsafe void Free(List<nint> owned)
    {
        foreach (var p in owned) NativeMemory.Free((void*)p);
        owned.Clear();
    }

    /// <summary>This process's environment as "NAME=value" entries.</summary>
    public static string[] CurrentEnvironment()
    {
        var result = new List<string>();
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
            result.Add($"{e.Key}={e.Value}");
        return [.. result];
    }
}
