namespace OpenMosix.Linux;

/// <summary>errno values the project checks for, and their symbolic names for messages.</summary>
public static class Errno
{
    public const int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, E2BIG = 7, EBADF = 9, ECHILD = 10,
        EAGAIN = 11, ENOMEM = 12, EACCES = 13, EFAULT = 14, EBUSY = 16, EEXIST = 17, EINVAL = 22, ENFILE = 23,
        EMFILE = 24, ENOTTY = 25, ENOSPC = 28, ESPIPE = 29, EROFS = 30, ERANGE = 34, ENOSYS = 38, EOVERFLOW = 75;

    private static readonly Dictionary<int, string> Names = new()
    {
        [EPERM] = "EPERM",
        [ENOENT] = "ENOENT",
        [ESRCH] = "ESRCH",
        [EINTR] = "EINTR",
        [EIO] = "EIO",
        [6] = "ENXIO",
        [E2BIG] = "E2BIG",
        [8] = "ENOEXEC",
        [EBADF] = "EBADF",
        [ECHILD] = "ECHILD",
        [EAGAIN] = "EAGAIN",
        [ENOMEM] = "ENOMEM",
        [EACCES] = "EACCES",
        [EFAULT] = "EFAULT",
        [EBUSY] = "EBUSY",
        [EEXIST] = "EEXIST",
        [18] = "EXDEV",
        [19] = "ENODEV",
        [20] = "ENOTDIR",
        [21] = "EISDIR",
        [EINVAL] = "EINVAL",
        [ENFILE] = "ENFILE",
        [EMFILE] = "EMFILE",
        [ENOTTY] = "ENOTTY",
        [26] = "ETXTBSY",
        [27] = "EFBIG",
        [ENOSPC] = "ENOSPC",
        [ESPIPE] = "ESPIPE",
        [EROFS] = "EROFS",
        [32] = "EPIPE",
        [ERANGE] = "ERANGE",
        [36] = "ENAMETOOLONG",
        [ENOSYS] = "ENOSYS",
        [EOVERFLOW] = "EOVERFLOW",
        [95] = "EOPNOTSUPP",
        [110] = "ETIMEDOUT",
        [111] = "ECONNREFUSED",
    };

    public static string Name(int errno) => Names.TryGetValue(errno, out var name) ? name : $"errno {errno}";
}
