using System.IO.Enumeration;

namespace OpenMosix.Daemon.Processes;

/// <summary>
/// omd.toml [manage]: which processes are openMosix candidates from birth, as every process was in openMosix. A
/// process is adopted when it execs a program and matches any rule: its user is named in <see cref="Users"/> (by name
/// or uid; "*" is every regular user, uid 1000 to 65533: root, system services and nobody only when named), its
/// program's path matches a pattern of <see cref="Programs"/> (`*` and `?` wildcards), or one of its cgroups matches
/// <see cref="Cgroups"/> (a rule starting with '/' is a path prefix, any other a path segment: `user.slice`,
/// `batch.service`). Pure; user names are resolved when the policy is made.
/// </summary>
public sealed class ManagePolicy
{
    public const uint FirstRegularUid = 1000, Nobody = 65534;
    private readonly HashSet<uint> _uids;
    private readonly bool _allRegularUsers;

    public ManagePolicy(IReadOnlyList<string> users, IReadOnlyList<string> cgroups, IReadOnlyList<string> programs, Func<string, uint?> uidOf)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(uidOf);
        Users = users;
        Cgroups = cgroups ?? throw new ArgumentNullException(nameof(cgroups));
        Programs = programs ?? throw new ArgumentNullException(nameof(programs));
        // A JSON list from `mosctl manage` may hold nulls: refused here, before Matches meets one on every exec.
        if (users.Concat(cgroups).Concat(programs).Any(entry => entry is null))
            throw new ArgumentException("a user, cgroup or program entry is null", nameof(users));
        _allRegularUsers = users.Contains("*");
        _uids = [];
        foreach (var user in users.Where(u => u != "*"))
            _uids.Add(uint.TryParse(user, out var uid) ? uid : uidOf(user) ?? throw new ArgumentException($"no such user '{user}'", nameof(users)));
    }

    public static ManagePolicy None { get; } = new([], [], [], _ => null);

    public IReadOnlyList<string> Users { get; }
    public IReadOnlyList<string> Cgroups { get; }
    public IReadOnlyList<string> Programs { get; }
    public bool IsEmpty => Users.Count == 0 && Cgroups.Count == 0 && Programs.Count == 0;

    /// <summary>Whether a process of <paramref name="uid"/> that runs <paramref name="program"/> is a candidate;
    /// <paramref name="cgroupPaths"/> is read only when a cgroup rule must decide.</summary>
    public bool Matches(uint uid, string? program, Func<IReadOnlyList<string>> cgroupPaths)
    {
        ArgumentNullException.ThrowIfNull(cgroupPaths);
        if (_uids.Contains(uid) || (_allRegularUsers && uid is >= FirstRegularUid and < Nobody)) return true;
        if (program is not null && Programs.Any(pattern => FileSystemName.MatchesSimpleExpression(pattern, program, ignoreCase: false))) return true;
        return Cgroups.Count > 0 && cgroupPaths().Any(path => Cgroups.Any(rule => CgroupMatches(rule, path)));
    }

    private static bool CgroupMatches(string rule, string path) =>
        rule.StartsWith('/')
            ? path == rule || path.StartsWith(rule.TrimEnd('/') + "/", StringComparison.Ordinal)
            : path.Split('/').Contains(rule, StringComparer.Ordinal);
}
