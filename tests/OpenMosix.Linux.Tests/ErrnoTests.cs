namespace OpenMosix.Linux.Tests;

public sealed class ErrnoTests
{
    [Fact]
    public void Syscall_message_names_the_call_the_errno_and_the_kernel_text()
    {
        var e = new SyscallException("ioctl(PAGEMAP_SCAN)", Errno.ESRCH);
        Assert.Equal("ioctl(PAGEMAP_SCAN) failed: ESRCH (No such process)", e.Message);
        Assert.Equal(Errno.ESRCH, e.Error);
    }

    [Fact]
    public void Syscall_message_puts_the_context_first()
    {
        var e = new SyscallException("open", Errno.ENOENT, "/nowhere");
        Assert.Equal("/nowhere: open failed: ENOENT (No such file or directory)", e.Message);
    }

    [Fact]
    public void A_number_without_a_name_prints_as_its_number()
    {
        Assert.Equal("errno 200", ((Errno)200).Name());
        Assert.Equal("errno 41", ((Errno)41).Name());
    }

    [Fact]
    public void Names_are_the_kernel_names_of_the_x86_64_numbers()
    {
        Assert.Equal("EAGAIN", ((Errno)11).Name());
        Assert.Equal("EOPNOTSUPP", ((Errno)95).Name());
        Assert.Equal("EHWPOISON", ((Errno)133).Name());
    }

    [Fact]
    public void A_negated_raw_result_reads_as_its_errno()
    {
        Assert.Equal(Errno.ENOSYS, Errno.FromNegated(-38));
    }
}
