# The other end of bulk.py's connections, in node 1: a connection that starts with S is read and dropped, one that
# starts with R is sent bytes until it closes.
import socket, sys, threading

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(2)
print("listening", flush=True)


def serve(c):
    kind = c.recv(1)
    buffer = bytearray(1 << 20)
    try:
        while True:
            if kind == b"S":
                if c.recv_into(buffer) == 0: break
            else:
                c.sendall(buffer)
    except OSError:
        pass
    c.close()


for _ in range(2):
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
threading.Event().wait()
