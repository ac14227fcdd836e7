#!/usr/bin/env python3
"""policy_client.py - SMTP and policy-protocol tools for t50_policy.

Independent of postsift's code: the signature is computed here from the
key file with Python's hmac, the policy protocol is spoken by hand.

  policy_client.py smtp PORT[,PORT...] SENDER RCPT [COUNT [SUBJECT]]
      Opens one SMTP session to 127.0.0.1:PORT for each port listed (a
      port named twice: two sessions at once, so two smtpd processes)
      and runs COUNT (1) transactions round robin over them: MAIL FROM
      SENDER, RCPT TO RCPT, and when the RCPT was accepted a small
      message with SUBJECT (numbered). Prints "N CODE TEXT" per RCPT reply.

  policy_client.py sign KEYFILE ADDRESS YYYYMMDD [LEN]
      Prints user+YYYYMMDD.SIG@domain: SIG the first LEN (8) characters
      of base32(HMAC-SHA256(key, lower("user|YYYYMMDD|domain"))).

  policy_client.py bad PORT
      Hostile requests to a policy daemon on 127.0.0.1:PORT, each on a
      connection followed by a good request on the same connection where
      the stream can stay in step: 10,000 attributes, a 1 MB value, binary
      (NUL and high bytes), then a request without its empty line (the
      write side closed). Prints "CASE: ANSWER" lines (the action= lines
      read, "EOF" when the daemon closed) and finally "fresh: ANSWER" for
      a good request on a new connection.
"""
import base64
import hashlib
import hmac
import smtplib
import socket
import sys

GOOD = (b"request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
        b"client_address=127.0.0.1\nclient_name=localhost\nsender=good@example.com\n"
        b"recipient=rcpt@example.net\nrecipient_count=0\nqueue_id=\n\n")


def smtp(ports, sender, rcpt, count=1, subject="t50"):
    sessions = []
    for p in ports.split(","):
        s = smtplib.SMTP("127.0.0.1", int(p), timeout=60)
        s.ehlo("client.postsift.test")
        sessions.append(s)
    for n in range(1, int(count) + 1):
        s = sessions[(n - 1) % len(sessions)]
        s.mail(sender)
        code, text = s.rcpt(rcpt)
        print(n, code, text.decode(errors="replace").replace("\n", " "), flush=True)
        if code == 250:
            body = ("From: <%s>\r\nTo: <%s>\r\nSubject: %s %d\r\n\r\ntest %d\r\n"
                    % (sender, rcpt, subject, n, n))
            s.data(body.encode())
        else:
            s.rset()
    for s in sessions:
        s.quit()


def sign(keyfile, address, date, length=8):
    key = open(keyfile, "rb").read()
    if key.endswith(b"\n"):
        key = key[:-1]
    user, domain = address.rsplit("@", 1)
    msg = ("%s|%s|%s" % (user, date, domain)).lower().encode()
    mac = hmac.new(key, msg, hashlib.sha256).digest()
    sig = base64.b32encode(mac).decode().lower()[:int(length)]
    print("%s+%s.%s@%s" % (user, date, sig, domain))


def answers(sock, want):
    """read want answers (action=...\\n\\n); 'EOF' when closed first"""
    got, buf = [], b""
    sock.settimeout(20)
    while len(got) < want:
        while b"\n\n" not in buf:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, socket.timeout):
                chunk = b""
            if not chunk:
                return got + ["EOF"]
            buf += chunk
        ans, buf = buf.split(b"\n\n", 1)
        got.append(ans.decode(errors="replace"))
    return got


def conn(port):
    return socket.create_connection(("127.0.0.1", int(port)), timeout=20)


def bad(port):
    many = b"".join(b"x%d=y\n" % i for i in range(10000))
    cases = [
        ("10000-attributes", b"request=smtpd_access_policy\n" + many + b"\n"),
        ("1mb-value", b"request=smtpd_access_policy\nsender=" + b"a" * (1 << 20) + b"\n\n"),
        ("binary", b"request=smtpd_access_policy\nsender=a\x00b\xff\xfe\x01\n\n"),
    ]
    for name, data in cases:
        s = conn(port)
        s.sendall(data + GOOD)
        got = answers(s, 2)
        print("%s: %s" % (name, got[0]))
        print("%s-then: %s" % (name, got[1] if len(got) > 1 else "EOF"))
        s.close()
    s = conn(port)
    s.sendall(b"request=smtpd_access_policy\nsender=a@example.com\n")
    s.shutdown(socket.SHUT_WR)
    got = answers(s, 2)
    print("no-empty-line: %s" % got[0])
    print("no-empty-line-then: %s" % (got[1] if len(got) > 1 else "EOF"))
    s.close()
    s = conn(port)
    s.sendall(GOOD)
    print("fresh: %s" % answers(s, 1)[0])
    s.close()


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "smtp":
        smtp(*args)
    elif cmd == "sign":
        sign(*args)
    elif cmd == "bad":
        bad(*args)
    else:
        sys.exit("usage: see the top of " + sys.argv[0])


if __name__ == "__main__":
    main()
