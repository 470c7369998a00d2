# Bulk transfer through descriptors home keeps (issue #15): N MiB written to fd 7 (a FIFO read at home), read from fd 8
# (a pipe written at home), written to a TCP connection to a sink in node 1 and read from one to a source in node 1, timed where the process starts and again
# after SIGUSR1 (sent once it has moved, when all three are forwarded through home), each moved phase after a SIGUSR1
# of its own (bulk.sh reads the omds' CPU times between phases). Prints MiB/s of each.
import os, signal, socket, sys, time

port, mib = int(sys.argv[1]), int(sys.argv[2])
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
sink = socket.create_connection(("127.0.0.1", port))
sink.sendall(b"S")
source = socket.create_connection(("127.0.0.1", port))
source.sendall(b"R")
chunk = memoryview(b"x" * (1 << 20))


def rate(move):
    start = time.perf_counter()
    move()
    return mib / (time.perf_counter() - start)


def to_pipe():
    for _ in range(mib):
        done = 0
        while done < len(chunk):
            done += os.write(7, chunk[done:])


pipe_in = open(8, "rb", buffering=0, closefd=False)


def from_pipe():
    buffer, left = memoryview(bytearray(1 << 20)), mib << 20
    while left > 0:
        n = pipe_in.readinto(buffer[:min(left, len(buffer))])
        if not n:
            raise SystemExit("fd 8 ended")
        left -= n


def to_socket():
    for _ in range(mib):
        sink.sendall(chunk)


def from_socket():
    buffer, left = bytearray(1 << 20), mib << 20
    while left > 0:
        left -= source.recv_into(buffer, min(left, len(buffer)))


def measure(where, gate=lambda what: None):
    for what, move in (("pipe", to_pipe), ("pipein", from_pipe), ("send", to_socket), ("recv", from_socket)):
        gate(what)
        print("%s %s %.1f" % (where, what, rate(move)), flush=True)


def next_phase(what):
    # Moved, each phase waits for a SIGUSR1: bench.sh reads the omds' CPU times while they are idle, before and after.
    print("next %s" % what, flush=True)
    signal.sigwait({signal.SIGUSR1})


measure("home")
print("ready", flush=True)
signal.sigwait({signal.SIGUSR1})
measure("moved", next_phase)
