# Reads of pipes home reads ahead checked (issue #15, docs/forwarding.md#pipes): N MiB read from fd 9 (a FIFO written
# at home) and from fd 10 (a pipe written at home whose read end another process at home holds too), timed where the
# process starts and again after SIGUSR1 (sent once it has moved, when both are forwarded through home). Prints MiB/s.
import os, signal, sys, time

mib = int(sys.argv[1])
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})


def rate(fd):
    buffer, left = memoryview(bytearray(1 << 20)), mib << 20
    start = time.perf_counter()
    while left > 0:
        n = os.readv(fd, [buffer[:min(left, len(buffer))]])
        if not n:
            raise SystemExit("fd %d ended" % fd)
        left -= n
    return mib / (time.perf_counter() - start)


def measure(where):
    print("%s fifo %.1f" % (where, rate(9)), flush=True)
    print("%s shared %.1f" % (where, rate(10)), flush=True)


measure("home")
print("ready", flush=True)
signal.sigwait({signal.SIGUSR1})
measure("moved")
