namespace OpenMosix.TestSupport;

/// <summary>
/// The start of a python3 program that puts itself under a seccomp filter with a listener: argv[1] is the program in
/// hex (8-byte instructions), no_new_privs is set, and the listener's number is printed on stdout for the test, which
/// takes it with pidfd_getfd and supervises the calls. The rest of the program follows this text.
/// </summary>
public static class FilteredPython
{
    public const string Preamble = """
        import ctypes, os, signal, sys
        libc = ctypes.CDLL(None, use_errno=True)
        prog = bytes.fromhex(sys.argv[1])
        buf = ctypes.create_string_buffer(prog, len(prog))
        class FProg(ctypes.Structure):
            _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
        fp = FProg(len(prog) // 8, ctypes.addressof(buf))
        libc.syscall.restype = ctypes.c_long
        if libc.prctl(38, 1, 0, 0, 0) != 0: sys.exit("no_new_privs failed")

        def install_filter():
            listener = libc.syscall(317, 1, 8, ctypes.byref(fp))
            if listener < 0: sys.exit("seccomp failed: %d" % ctypes.get_errno())
            print(listener, flush=True)

        """;
}
