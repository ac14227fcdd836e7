#!/usr/bin/env python3
"""slowclamd - a clamd that takes its time: a scripted peer for tests.

Usage: slowclamd.py PORT DELAY

Listens on 127.0.0.1:PORT and serves each connection in a thread: zVERSION
and zPING are answered at once; zINSTREAM reads the whole stream, waits
DELAY seconds and answers "stream: OK" (a scan that is slow and clean).
Every INSTREAM is logged to stdout as it starts and as it is answered.
"""
import socket
import sys
import threading
import time


def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        part = conn.recv(n - len(data))
        if not part:
            raise EOFError
        data += part
    return data


def serve(conn, delay):
    try:
        cmd = b""
        while not cmd.endswith(b"\0"):
            cmd += recv_exact(conn, 1)
        if cmd == b"zVERSION\0":
            conn.sendall(b"ClamAV 1.0.0/27000/Mon Nov 23 09:00:00 2026\0")
        elif cmd == b"zPING\0":
            conn.sendall(b"PONG\0")
        elif cmd == b"zINSTREAM\0":
            while True:
                size = int.from_bytes(recv_exact(conn, 4), "big")
                if size == 0:
                    break
                recv_exact(conn, size)
            print("instream start", flush=True)
            time.sleep(delay)
            conn.sendall(b"stream: OK\0")
            print("instream answered", flush=True)
        else:
            conn.sendall(b"UNKNOWN COMMAND\0")
    except (EOFError, OSError):
        pass
    finally:
        conn.close()


def main():
    port, delay = int(sys.argv[1]), float(sys.argv[2])
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", port))
    lsock.listen(16)
    while True:
        conn, _ = lsock.accept()
        threading.Thread(target=serve, args=(conn, delay), daemon=True).start()


if __name__ == "__main__":
    main()
