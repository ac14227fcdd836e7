#!/usr/bin/env python3
"""smtpraw.py - raw SMTP tools for t24_smtpd_smuggling, t25_smtpd_failures and t40_milter.

Independent of postsift's own client code, so that the tests do not check
the filter with the filter's own library.

  smtpraw.py proxy LISTEN_PORT TARGET_PORT DIR
      A recording TCP relay on 127.0.0.1:LISTEN_PORT to 127.0.0.1:TARGET_PORT.
      Connection N writes DIR/N.c2s (bytes from the client, unchanged) and
      DIR/N.s2c. Prints "listening" once bound.

  smtpraw.py smuggle PORT RCPT SMUGGLED VECTOR whole|bytes
      One session to 127.0.0.1:PORT: EHLO, MAIL, RCPT TO:<RCPT>, DATA, then
      a body in which VECTOR (see VECTORS) is followed by a smuggled
      "MAIL FROM/RCPT TO:<SMUGGLED>/DATA" and a second message, then the
      proper <CRLF>.<CRLF> and QUIT, written at once (whole) or one byte
      per write (bytes). Prints each reply, one a line ("250 2.0.0 ..."; a
      multi-line reply as its last line), and "EOF" when the server closed.

  smtpraw.py check FILE
      Parses the bytes an SMTP client sent (a proxy's N.c2s) and prints
      key=value lines: bare_cr, bare_lf (counts anywhere in the stream),
      mail (MAIL commands), rcpt (RCPT addresses, comma list), data (DATA
      sections ended by <CRLF>.<CRLF>), stuffed_dot_lines (lines that are
      exactly ".." in the data), smuggled_text (data lines holding
      "MAIL FROM:<smuggler@"), unterminated (1 when data never ended).

  smtpraw.py slowdata PORT RCPT PORTFILE [WAIT]
      EHLO, MAIL, RCPT, DATA and part of a message, then writes the local
      port to PORTFILE and waits up to WAIT seconds (default 30) for the
      server: prints "EOF" when the connection is closed or reset without
      a reply, "REPLY line" when a reply comes, "TIMEOUT" otherwise. Each
      reply before that is printed as "<<< line".

  smtpraw.py pausedata PORT RCPT SUBJECT READYFILE GOFILE
      EHLO, MAIL, RCPT, DATA and the first half of a message with
      SUBJECT, then creates READYFILE and waits (up to 120 s) for GOFILE
      to exist; then the rest of the message and the final dot. Prints
      "REPLY line" with the reply to the dot ("EOF" when the connection
      was closed), then says QUIT.
"""

import os
import socket
import sys
import threading
import time

VECTORS = {
    "lf-dot-lf": b"\n.\n",
    "lf-dot-crlf": b"\n.\r\n",
    "cr-dot-cr": b"\r.\r",
    "crlf-dot-lf": b"\r\n.\n",
    "cr-dot-crlf": b"\r.\r\n",
    "cr-dot-lf": b"\r.\n",
    "crlf-dot-cr": b"\r\n.\r",
}


# ------------------------------------------------------------------ proxy
def _pump(src, dst, log):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            log.write(b)
            log.flush()
            dst.sendall(b)
    except OSError:
        pass
    finally:
        for s in (dst, src):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _relay(conn, target, directory, n):
    try:
        up = socket.create_connection(("127.0.0.1", target), timeout=30)
        up.settimeout(None)
    except OSError:
        conn.close()
        return
    c2s = open(os.path.join(directory, "%d.c2s" % n), "wb")
    s2c = open(os.path.join(directory, "%d.s2c" % n), "wb")
    t = threading.Thread(target=_pump, args=(up, conn, s2c), daemon=True)
    t.start()
    _pump(conn, up, c2s)
    t.join()
    c2s.close()
    s2c.close()
    conn.close()
    up.close()


def proxy(listen_port, target_port, directory):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", int(listen_port)))
    srv.listen(64)
    print("listening", flush=True)
    n = 0
    while True:
        conn, _ = srv.accept()
        n += 1
        threading.Thread(target=_relay, args=(conn, int(target_port), directory, n),
                         daemon=True).start()


# ------------------------------------------------------------------ client
class Client:
    def __init__(self, port, timeout=60):
        self.s = socket.create_connection(("127.0.0.1", int(port)), timeout=timeout)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            b = self.s.recv(4096)
            if not b:
                return None
            self.buf += b
        ln, self.buf = self.buf.split(b"\n", 1)
        return ln.rstrip(b"\r").decode("latin-1")

    def reply(self):
        """One reply, its last line; None at EOF."""
        while True:
            ln = self.line()
            if ln is None:
                return None
            if len(ln) >= 4 and ln[3] == "-":
                continue
            return ln

    def cmd(self, text):
        self.s.sendall(text.encode() + b"\r\n")
        return self.reply()


def smuggle(port, rcpt, smuggled, vector, mode):
    vec = VECTORS[vector]
    c = Client(port)
    out = []

    def say(r):
        out.append(r if r is not None else "EOF")
        print(out[-1], flush=True)
        return r is not None

    if not say(c.reply()):
        return
    for command in ("EHLO smuggler.postsift.test", "MAIL FROM:<sender@example.com>",
                    "RCPT TO:<%s>" % rcpt, "DATA"):
        r = c.cmd(command)
        if not say(r) or r[0] not in "23":
            c.s.close()
            return
    body = (b"From: Sender <sender@example.com>\r\n"
            b"To: <" + rcpt.encode() + b">\r\n"
            b"Subject: smuggling " + vector.encode() + b" " + mode.encode() + b"\r\n"
            b"Message-ID: <" + vector.encode() + b"." + str(os.getpid()).encode()
            + b"@postsift.test>\r\n"
            b"\r\n"
            b"the first message" + vec +
            b"MAIL FROM:<smuggler@evil.test>\r\n"
            b"RCPT TO:<" + smuggled.encode() + b">\r\n"
            b"DATA\r\n"
            b"From: <smuggler@evil.test>\r\n"
            b"To: <" + smuggled.encode() + b">\r\n"
            b"Subject: smuggled " + vector.encode() + b"\r\n"
            b"\r\n"
            b"the smuggled message\r\n"
            b".\r\n"
            b"QUIT\r\n")
    if mode == "bytes":
        for i in range(len(body)):
            c.s.sendall(body[i:i + 1])
            time.sleep(0.002)
    else:
        c.s.sendall(body)
    while True:
        try:
            r = c.reply()
        except OSError:
            r = None
        say(r)
        if r is None:
            break
    c.s.close()


# ------------------------------------------------------------------ check
def check(path):
    data = open(path, "rb").read()
    bare_cr = sum(1 for i, ch in enumerate(data)
                  if ch == 13 and (i + 1 >= len(data) or data[i + 1] != 10))
    bare_lf = sum(1 for i, ch in enumerate(data)
                  if ch == 10 and (i == 0 or data[i - 1] != 13))
    mail = 0
    rcpts = []
    sections = 0
    stuffed = 0
    smuggled = 0
    unterminated = 0
    pos = 0
    while pos < len(data):
        end = data.find(b"\r\n", pos)
        if end < 0:
            break
        line = data[pos:end]
        pos = end + 2
        verb = line.split(b" ", 1)[0].split(b":", 1)[0].upper()
        if verb == b"MAIL":
            mail += 1
        elif verb == b"RCPT":
            a = line[line.find(b"<") + 1:line.rfind(b">")]
            rcpts.append(a.decode("latin-1"))
        elif verb == b"DATA" and line.upper() == b"DATA":
            # the data runs to <CRLF>.<CRLF>; "\r\n" before pos counts
            stop = data.find(b"\r\n.\r\n", pos - 2)
            if stop < 0:
                unterminated = 1
                body = data[pos:]
                pos = len(data)
            else:
                body = data[pos:stop + 2]
                pos = stop + 5
            sections += 1
            for bl in body.split(b"\r\n"):
                if bl == b"..":
                    stuffed += 1
                if b"MAIL FROM:<smuggler@" in bl:
                    smuggled += 1
    print("bare_cr=%d" % bare_cr)
    print("bare_lf=%d" % bare_lf)
    print("mail=%d" % mail)
    print("rcpt=%s" % ",".join(rcpts))
    print("data=%d" % sections)
    print("stuffed_dot_lines=%d" % stuffed)
    print("smuggled_text=%d" % smuggled)
    print("unterminated=%d" % unterminated)


# ------------------------------------------------------------------ slowdata
def slowdata(port, rcpt, portfile, wait=30.0):
    c = Client(port)
    print("<<< %s" % c.reply(), flush=True)
    for command in ("EHLO slow.postsift.test", "MAIL FROM:<sender@example.com>",
                    "RCPT TO:<%s>" % rcpt, "DATA"):
        r = c.cmd(command)
        print("<<< %s" % r, flush=True)
        if r is None or r[0] not in "23":
            print("FAILED", flush=True)
            return
    c.s.sendall(b"From: <sender@example.com>\r\nTo: <" + rcpt.encode() +
                b">\r\nSubject: slow client\r\n\r\nthe first half of the body\r\n")
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % c.s.getsockname()[1])
    os.rename(portfile + ".tmp", portfile)
    c.s.settimeout(float(wait))
    try:
        r = c.reply()
    except socket.timeout:
        print("TIMEOUT", flush=True)
        return
    except OSError:
        r = None
    print("EOF" if r is None else "REPLY %s" % r, flush=True)


# ------------------------------------------------------------------ pausedata
def pausedata(port, rcpt, subject, readyfile, gofile):
    c = Client(port, timeout=180)
    print("<<< %s" % c.reply(), flush=True)
    for command in ("EHLO pause.postsift.test", "MAIL FROM:<sender@example.com>",
                    "RCPT TO:<%s>" % rcpt, "DATA"):
        r = c.cmd(command)
        print("<<< %s" % r, flush=True)
        if r is None or r[0] not in "23":
            print("FAILED", flush=True)
            return
    c.s.sendall(("From: <sender@example.com>\r\nTo: <%s>\r\nSubject: %s\r\n\r\n"
                 "the first half of the body\r\n" % (rcpt, subject)).encode())
    open(readyfile, "w").close()
    end = time.time() + 120
    while not os.path.exists(gofile) and time.time() < end:
        time.sleep(0.1)
    try:
        r = c.cmd("the second half of the body\r\n.")
    except OSError:
        r = None
    print("EOF" if r is None else "REPLY %s" % r, flush=True)
    try:
        c.cmd("QUIT")
    except OSError:
        pass


def main(argv):
    if len(argv) >= 5 and argv[1] == "proxy":
        proxy(argv[2], argv[3], argv[4])
    elif len(argv) == 7 and argv[1] == "smuggle":
        smuggle(argv[2], argv[3], argv[4], argv[5], argv[6])
    elif len(argv) == 3 and argv[1] == "check":
        check(argv[2])
    elif len(argv) in (5, 6) and argv[1] == "slowdata":
        slowdata(argv[2], argv[3], argv[4], *(float(a) for a in argv[5:]))
    elif len(argv) == 7 and argv[1] == "pausedata":
        pausedata(argv[2], argv[3], argv[4], argv[5], argv[6])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
