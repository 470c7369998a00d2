# A small write to fd 7 (a pipe or FIFO read at home), N times, timed where the process starts and again after
# SIGUSR1 (sent once it has moved, when every such write is forwarded through home). Prints the mean per write in µs.
# Also a write to /dev/null, a local descriptor wherever it runs: what the forwarding filter costs a call it lets through.
import os, signal, sys, time

n = int(sys.argv[1])
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})


null = os.open("/dev/null", os.O_WRONLY)


def per_write_us(fd, count):
    start = time.perf_counter()
    for _ in range(count):
        os.write(fd, b"x")
    return (time.perf_counter() - start) / count * 1e6


print("home %.2f" % per_write_us(7, n), flush=True)
print("homenull %.3f" % per_write_us(null, n * 100), flush=True)
print("ready", flush=True)
signal.sigwait({signal.SIGUSR1})
print("moved %.2f" % per_write_us(7, n), flush=True)
print("movednull %.3f" % per_write_us(null, n * 100), flush=True)
