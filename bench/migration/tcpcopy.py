#!/usr/bin/env python3
"""The floor for a migration's freeze time: a plain TCP copy of N bytes from one lab node to another.
usage: tcpcopy.py recv PORT   (in the target node: prints nothing, acknowledges the end with one byte)
       tcpcopy.py send HOST PORT MIB   (in the source node: prints the seconds from connect to the acknowledgement)"""
import socket, sys, time

if sys.argv[1] == "recv":
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("0.0.0.0", int(sys.argv[2])))
    server.listen(1)
    print("listening", flush=True)
    while True:
        conn, _ = server.accept()
        expected = int.from_bytes(conn.recv(8, socket.MSG_WAITALL), "little")
        buffer = bytearray(1 << 20)
        got = 0
        while got < expected:
            n = conn.recv_into(buffer)
            if n == 0:
                break
            got += n
        conn.sendall(b"k")
        conn.close()
else:
    host, port, mib = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    data = bytes(range(256)) * (4096 * mib)
    start = time.perf_counter()
    conn = socket.create_connection((host, port))
    conn.sendall(len(data).to_bytes(8, "little"))
    conn.sendall(data)
    conn.recv(1)
    print(f"{time.perf_counter() - start:.4f}")
