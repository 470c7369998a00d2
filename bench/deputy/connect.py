# Sockets created away (issue #15): N new TCP connections (socket, connect, one line sent and its echo read, close) to
# an echo server on node 1's loopback, timed where the process starts and again after SIGUSR1 (sent once it has moved:
# each socket is then made at home by the deputy and every call on it carried home). Also N sockets of AF_UNIX made
# and closed, which stay the node's (the filter does not hand them over). Prints microseconds per connection.
import signal, socket, sys, time

port, n = int(sys.argv[1]), int(sys.argv[2])
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})


def per_call(work):
    start = time.perf_counter()
    for _ in range(n):
        work()
    return (time.perf_counter() - start) / n * 1e6


def connection():
    c = socket.create_connection(("127.0.0.1", port))
    c.sendall(b"x\n")
    if c.recv(16) != b"x\n":
        raise SystemExit("wrong echo")
    c.close()


def unix_socket():
    socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()


def measure(where):
    print("%s connect %.0f" % (where, per_call(connection)), flush=True)
    print("%s unix %.1f" % (where, per_call(unix_socket)), flush=True)


measure("home")
print("ready", flush=True)
signal.sigwait({signal.SIGUSR1})
measure("moved")
