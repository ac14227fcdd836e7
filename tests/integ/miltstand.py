#!/usr/bin/env python3
# miltstand.py - a stand-in milter for the integration tests: it speaks
# just enough of the milter protocol (version 6) for Postfix's smtpd and
# cleanup to use it. It answers SMFIC_OPTNEG, continues on every command
# that wants a reply, and at end of message adds one header (so a test
# can see that the message went through it) and accepts.
#
# Usage: miltstand.py ADDRESS HEADER_NAME [LOGFILE]
#   ADDRESS  inet:HOST:PORT or unix:/path (as milter_listen says it)
# Each command it gets is appended to LOGFILE, one line, for the tests.
# It runs until it is killed; one thread per connection.
import os
import socket
import struct
import sys
import threading

SMFIC_OPTNEG = b"O"
SMFIC_MACRO = b"D"
SMFIC_ABORT = b"A"
SMFIC_QUIT = b"Q"
SMFIC_QUIT_NC = b"K"
SMFIC_EOM = b"E"
SMFIR_CONTINUE = b"c"
SMFIR_ACCEPT = b"a"
SMFIR_ADDHEADER = b"h"
SMFIF_ADDHDRS = 0x01
NO_REPLY = (SMFIC_MACRO, SMFIC_ABORT, SMFIC_QUIT, SMFIC_QUIT_NC)
MAX_PACKET = 1024 * 1024

LOCK = threading.Lock()


def log(path, text):
    """log - one line to the log file, if there is one"""
    if not path:
        return
    with LOCK, open(path, "a") as f:
        f.write(text + "\n")


def read_full(conn, n):
    """read_full - exactly n bytes, None at EOF"""
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def send(conn, cmd, data=b""):
    """send - one packet: length, command, data"""
    conn.sendall(struct.pack("!I", len(data) + 1) + cmd + data)


def serve(conn, header, logfile):
    """serve - one milter session"""
    try:
        while True:
            hdr = read_full(conn, 5)
            if hdr is None:
                return
            length = struct.unpack("!I", hdr[:4])[0]
            cmd = hdr[4:5]
            if length < 1 or length > MAX_PACKET:
                return
            data = read_full(conn, length - 1) if length > 1 else b""
            if data is None:
                return
            log(logfile, "cmd %s" % cmd.decode("latin-1"))
            if cmd == SMFIC_OPTNEG:
                # version 6, may add headers, every protocol step wanted
                send(conn, SMFIC_OPTNEG, struct.pack("!III", 6, SMFIF_ADDHDRS, 0))
            elif cmd == SMFIC_EOM:
                send(conn, SMFIR_ADDHEADER, header.encode() + b"\0yes\0")
                send(conn, SMFIR_ACCEPT)
            elif cmd == SMFIC_QUIT:
                return
            elif cmd not in NO_REPLY:
                send(conn, SMFIR_CONTINUE)
    except OSError:
        return
    finally:
        conn.close()


def listen(address):
    """listen - the listening socket of address"""
    if address.startswith("unix:"):
        path = address[5:]
        if os.path.exists(path):
            os.unlink(path)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        os.chmod(path, 0o666)
    else:
        host, port = address[5:].rsplit(":", 1) if address.startswith("inet:") \
            else address.rsplit(":", 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host.strip("[]"), int(port)))
    s.listen(64)
    return s


def main():
    if len(sys.argv) not in (3, 4):
        sys.stderr.write("usage: miltstand.py ADDRESS HEADER_NAME [LOGFILE]\n")
        return 2
    logfile = sys.argv[3] if len(sys.argv) == 4 else None
    s = listen(sys.argv[1])
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, sys.argv[2], logfile),
                         daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
