#!/usr/bin/env python3
# tests/bench/soak.py - message generator, submitter, sink collector and
# report of the soak test (tests/bench/soak, which runs it)
#
#   soak.py submit DIR PORT N CONC BIG_EVERY WINDOW TESTFILES
#       N messages, numbered 1..N, generated in memory as they are sent
#       (every one different: its own Message-ID, envelope and random
#       attachment bytes), in CONC SMTP sessions (threads, one persistent
#       session each) to 127.0.0.1:PORT. At most WINDOW messages are in
#       flight (accepted, not yet settled: DIR/settled, written by
#       collect). One line a message in DIR/submit.log:
#       "N KIND T0 T1 STATUS" (T0 before MAIL FROM, T1 after the reply to
#       the final dot; STATUS ok, or the reply or error of the last try).
#       A 4xx or a broken session is retried (5 tries). DIR/submit.stats:
#       the share of the time (%) the threads waited for the window, and
#       the CPU seconds the submitter used.
#   soak.py collect DIR SINKDIR SINKPID QDIR
#       Every 0.2 s: each message smtp-sink has finished writing (the dump
#       file is no longer open in SINKPID) is read (its envelope lines and
#       header), recorded in DIR/sink.log ("RCPT MTIME SIZE MSGID", one
#       line a recipient) and removed (SOAK_KEEP_SINK=1 keeps them). The
#       number settled (sink files + quarantine entries) goes to
#       DIR/settled. Ends after one last pass once DIR/stop exists.
#   soak.py report DIR QUARANTINE_JSON
#       The accounting: each message's outcomes (delivered at the sink,
#       a DSN to its sender at the sink, quarantined) against what its
#       kind should get; missing, duplicate and wrong ones; latency p50
#       and p99 per kind. Exit 1 when a message was lost, duplicated,
#       handled wrongly or never accepted.
#
# Kinds: clean (text and a 2 KB random "PDF"), big (about 5 MB, a 3.7 MB
# random attachment; 1 in BIG_EVERY), eicar (the EICAR test string as an
# attachment), testfile (one file of TESTFILES, in turn, when there are
# any), elf (an ELF program, banned by true type), exe (random text
# named setup.exe, banned by name).

import base64
import json
import os
import resource
import smtplib
import sys
import threading
import time

EICAR = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")
EXPECT = {"clean": "delivered", "big": "delivered", "eicar": "quarantined",
          "testfile": "quarantined", "elf": "dsn", "exe": "dsn"}


def b64lines(data):
    """b64lines - data in base64, 76 columns, CRLF line ends"""
    enc = base64.b64encode(data)
    return b"\r\n".join(enc[i:i + 76] for i in range(0, len(enc), 76)) + b"\r\n"


class Generator:
    """Generator - the kind and bytes of message number i"""

    def __init__(self, big_every, testfiles):
        self.big_every = big_every
        self.testfiles = []
        if testfiles and os.path.isdir(testfiles):
            for name in sorted(os.listdir(testfiles)):
                path = os.path.join(testfiles, name)
                if os.path.isfile(path):
                    with open(path, "rb") as f:
                        self.testfiles.append((name, f.read()))
        with open("/bin/true", "rb") as f:
            self.elf = f.read()
        self.run = "%x" % int(time.time())

    def kind(self, i):
        """kind - the kind of message i (1..N)"""
        if self.big_every and i % self.big_every == 0:
            return "big"
        r = i % 20
        if r == 1:
            return "eicar"
        if r == 2:
            return "testfile" if self.testfiles else "eicar"
        if r == 3:
            return "elf"
        if r == 4:
            return "exe"
        return "clean"

    def attachment(self, i, kind):
        """attachment - (file name, content type, bytes) of message i"""
        if kind == "clean":
            return "report-%d.pdf" % i, "application/pdf", b"%PDF-1.4\n" + os.urandom(2000)
        if kind == "big":
            # a fixed text start: random bytes may look like a DOS
            # program to libmagic (0xE9 at offset 0), which is banned
            return "data-%d.bin" % i, "application/octet-stream", b"postsift soak data\n" + os.urandom(3700000)
        if kind == "eicar":
            return "eicar-%d.txt" % i, "text/plain", EICAR
        if kind == "testfile":
            name, data = self.testfiles[(i // 20) % len(self.testfiles)]
            return name, "application/octet-stream", data
        if kind == "elf":
            return "tool-%d.bin" % i, "application/octet-stream", self.elf + os.urandom(64)
        return "setup.exe", "application/octet-stream", os.urandom(600).hex().encode()

    def message(self, i):
        """message - (kind, sender, rcpt, bytes) of message i"""
        kind = self.kind(i)
        name, ctype, data = self.attachment(i, kind)
        b = "=_soak_%d_%s" % (i, self.run)
        head = ("From: Soak Sender <soak-%d@example.com>\r\n"
                "To: Soak Rcpt <soak-%d@example.net>\r\n"
                "Subject: soak %d %s\r\n"
                "Date: %s\r\n"
                "Message-ID: <soak.%d.%s.%s@postsift.test>\r\n"
                "MIME-Version: 1.0\r\n"
                "Content-Type: multipart/mixed; boundary=\"%s\"\r\n"
                "\r\n"
                "This is a multi-part message in MIME format.\r\n"
                "--%s\r\n"
                "Content-Type: text/plain; charset=us-ascii\r\n"
                "\r\n"
                "Soak message %d of kind %s. The attachment follows.\r\n"
                ".a line that starts with a dot\r\n"
                "\r\n"
                "--%s\r\n"
                "Content-Type: %s; name=\"%s\"\r\n"
                "Content-Disposition: attachment; filename=\"%s\"\r\n"
                "Content-Transfer-Encoding: base64\r\n"
                "\r\n") % (i, i, i, kind,
                           time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
                           i, kind, self.run, b, b, i, kind, b, ctype, name, name)
        body = head.encode() + b64lines(data) + ("--%s--\r\n" % b).encode()
        return kind, "soak-%d@example.com" % i, "soak-%d@example.net" % i, body


class Submitter:
    """Submitter - CONC threads sending messages 1..N, WINDOW in flight"""

    def __init__(self, d, port, n, conc, window, gen):
        self.d, self.port, self.n, self.conc, self.window, self.gen = d, port, n, conc, window, gen
        self.lock = threading.Lock()
        self.next = 1
        self.accepted = 0
        self.settled = 0
        self.done = False
        self.waited = 0.0
        self.log = open(os.path.join(d, "submit.log"), "a", buffering=1)

    def take(self):
        """take - the next message number, or 0 at the end; waits for the window"""
        while True:
            with self.lock:
                if self.next > self.n:
                    return 0
                if self.accepted - self.settled < self.window:
                    i = self.next
                    self.next += 1
                    return i
                self.waited += 0.005
            time.sleep(0.005)

    def read_settled(self):
        """read_settled - DIR/settled into self.settled, until the end"""
        path = os.path.join(self.d, "settled")
        while not self.done:
            try:
                with open(path) as f:
                    v = int((f.read().split() or ["0"])[0])
                with self.lock:
                    self.settled = v
            except (OSError, ValueError):
                pass
            time.sleep(0.05)

    def connect(self):
        """connect - a new session"""
        s = smtplib.SMTP("127.0.0.1", self.port, local_hostname="client.example.com", timeout=300)
        s.ehlo()
        return s

    def send(self, s, sender, rcpt, body):
        """send - one message; (session, status)"""
        for tries in range(5):
            try:
                if s is None:
                    s = self.connect()
                s.sendmail(sender, [rcpt], body)
                return s, "ok"
            except smtplib.SMTPResponseException as e:
                status = "%d %s" % (e.smtp_code, e.smtp_error.decode(errors="replace"))
                if e.smtp_code >= 500:
                    return s, status
                try:
                    s.rset()
                except (smtplib.SMTPException, OSError):
                    s = None
            except smtplib.SMTPRecipientsRefused as e:
                code, text = list(e.recipients.values())[0]
                status = "%d %s" % (code, text.decode(errors="replace"))
                if code >= 500:
                    return s, status
            except (smtplib.SMTPException, OSError) as e:
                status = "error %s" % e
                s = None
            time.sleep(1 + tries)
        return s, status

    def worker(self):
        """worker - one session, messages until there are none left"""
        s = None
        while True:
            i = self.take()
            if not i:
                break
            kind, sender, rcpt, body = self.gen.message(i)
            t0 = time.time()
            s, status = self.send(s, sender, rcpt, body)
            t1 = time.time()
            with self.lock:
                if status == "ok":
                    self.accepted += 1
                self.log.write("%d %s %.6f %.6f %s\n" % (i, kind, t0, t1, status.replace("\n", " ")))
        if s is not None:
            try:
                s.quit()
            except (smtplib.SMTPException, OSError):
                pass

    def run(self):
        """run - all the threads, to the end"""
        rs = threading.Thread(target=self.read_settled, daemon=True)
        rs.start()
        threads = [threading.Thread(target=self.worker) for _ in range(self.conc)]
        for t in threads:
            t.start()
        t0 = time.time()
        for t in threads:
            t.join()
        self.done = True
        self.log.close()
        with open(os.path.join(self.d, "submit.stats"), "w") as f:
            ru = resource.getrusage(resource.RUSAGE_SELF)
            f.write("%.1f %.1f\n" % (100.0 * self.waited / self.conc / max(time.time() - t0, 0.001),
                                     ru.ru_utime + ru.ru_stime))


def sink_open_files(pid):
    """sink_open_files - the paths smtp-sink pid has open"""
    out = set()
    fdd = "/proc/%d/fd" % pid
    try:
        for fd in os.listdir(fdd):
            try:
                out.add(os.readlink(os.path.join(fdd, fd)))
            except OSError:
                pass
    except OSError:
        pass
    return out


def sink_parse(path):
    """sink_parse - (recipients, message-id) of a dump file"""
    rcpts, msgid, hdr = [], "-", False
    with open(path, "rb") as f:
        for raw in f:
            line = raw.decode("latin-1").rstrip("\r\n")
            if not hdr:
                if line.startswith("X-Rcpt-Args: <"):
                    rcpts.append(line[14:].split(">", 1)[0])
                elif line.startswith("Received: "):
                    hdr = True
                continue
            if line == "":
                break
            if line.lower().startswith("message-id:"):
                msgid = line.split(":", 1)[1].strip() or "-"
    return rcpts, msgid


def quarantine_times(qdir, qseen, qlog):
    """quarantine_times - log "ID MTIME" of new quarantine entries; their count"""
    try:
        names = [n for n in os.listdir(qdir) if not n.startswith(".")]
    except OSError:
        return 0
    for n in names:
        if n in qseen:
            continue
        try:
            qlog.write("%s %.6f\n" % (n, os.stat(os.path.join(qdir, n)).st_mtime))
            qseen.add(n)
        except OSError:
            pass
    return len(names)


def collect(d, sinkdir, sinkpid, qdir):
    """collect - record and remove finished sink files until DIR/stop"""
    keep = os.environ.get("SOAK_KEEP_SINK") == "1"
    seen = set()
    nfiles = 0
    log = open(os.path.join(d, "sink.log"), "a", buffering=1)
    qlog = open(os.path.join(d, "qtimes.log"), "a", buffering=1)
    qseen = set()
    while True:
        last = os.path.exists(os.path.join(d, "stop"))
        names = [n for n in os.listdir(sinkdir) if n not in seen]
        busy = sink_open_files(sinkpid)
        for n in names:
            path = os.path.join(sinkdir, n)
            if path in busy:
                continue
            try:
                st = os.stat(path)
                rcpts, msgid = sink_parse(path)
            except OSError:
                continue
            for r in rcpts or ["-"]:
                log.write("%s %.6f %d %s\n" % (r, st.st_mtime, st.st_size, msgid))
            nfiles += 1
            if keep:
                seen.add(n)
            else:
                os.unlink(path)
        nq = quarantine_times(qdir, qseen, qlog)
        with open(os.path.join(d, "settled.new"), "w") as f:
            f.write("%d %d\n" % (nfiles + nq, nfiles))
        os.rename(os.path.join(d, "settled.new"), os.path.join(d, "settled"))
        if last:
            break
        time.sleep(0.2)
    log.close()
    qlog.close()


def pct(vals, p):
    """pct - the p-th percentile (nearest rank) of sorted vals"""
    if not vals:
        return float("nan")
    k = max(0, min(len(vals) - 1, int(round(p / 100.0 * len(vals) + 0.5)) - 1))
    return vals[k]


def num_of(addr, domain):
    """num_of - N of soak-N@domain, else 0"""
    if addr.startswith("soak-") and addr.endswith("@" + domain):
        try:
            return int(addr[5:-len(domain) - 1])
        except ValueError:
            return 0
    return 0


def load(d, qjson):
    """load - submissions, and the outcomes of each message number"""
    sub = {}
    with open(os.path.join(d, "submit.log")) as f:
        for line in f:
            p = line.split(" ", 4)
            sub[int(p[0])] = (p[1], float(p[2]), float(p[3]), p[4].strip())
    out = {}          # n -> list of (outcome, time)
    stray = []
    try:
        f = open(os.path.join(d, "sink.log"))
    except OSError:
        f = []
    for line in f:
        r, t, size, _ = line.split(" ", 3)
        n = num_of(r, "example.net")
        if n:
            out.setdefault(n, []).append(("delivered", float(t), int(size)))
            continue
        n = num_of(r, "example.com")
        if n:
            out.setdefault(n, []).append(("dsn", float(t), int(size)))
        else:
            stray.append(r)
    qt = {}
    try:
        with open(os.path.join(d, "qtimes.log")) as f:
            for line in f:
                p = line.split()
                qt[p[0]] = float(p[1])
    except OSError:
        pass
    with open(qjson) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            e = json.loads(line)
            n = 0
            for r in e.get("recipients", []):
                n = n or num_of(r, "example.net")
            if n:
                t = qt.get(e.get("id"), float(e.get("unixtime", 0)))
                out.setdefault(n, []).append(("quarantined", t, int(e.get("size", 0))))
            else:
                stray.append("quarantine:" + e.get("id", "?"))
    return sub, out, stray


def account(sub, out):
    """account - per kind counts, the bad lists and the latencies"""
    kinds = {}
    bad = {"missing": [], "duplicate": [], "wrong": [], "refused at submission": []}
    lat = {}
    for n in sorted(sub):
        kind, t0, _, status = sub[n]
        k = kinds.setdefault(kind, {"sent": 0, "delivered": 0, "dsn": 0, "quarantined": 0})
        k["sent"] += 1
        got = out.get(n, [])
        for o in got:
            k[o[0]] += 1
        if status != "ok":
            if got:
                bad["wrong"].append("%d(%s: not accepted, yet %s)" % (n, kind, got[0][0]))
            else:
                bad["refused at submission"].append("%d(%s: %s)" % (n, kind, status[:60]))
            continue
        want = EXPECT[kind]
        if not got:
            bad["missing"].append("%d(%s)" % (n, kind))
        elif len(got) > 1:
            bad["duplicate"].append("%d(%s: %s)" % (n, kind, "+".join(o[0] for o in got)))
        elif got[0][0] != want:
            bad["wrong"].append("%d(%s: %s, want %s)" % (n, kind, got[0][0], want))
        else:
            lat.setdefault(kind, []).append(got[0][1] - t0)
    return kinds, bad, lat


def report(d, qjson):
    """report - print the accounting; 1 when anything went wrong"""
    sub, out, stray = load(d, qjson)
    kinds, bad, lat = account(sub, out)
    print("%-9s %8s %10s %8s %12s %10s %10s  %s" % ("kind", "sent", "delivered", "DSN", "quarantined",
                                                   "p50", "p99", "latency measured to"))
    to = {"delivered": "arrival at the sink", "dsn": "the DSN at the sink",
          "quarantined": "the quarantine file's mtime"}
    for kind in sorted(kinds):
        k = kinds[kind]
        v = sorted(lat.get(kind, []))
        print("%-9s %8d %10d %8d %12d %9.3fs %9.3fs  %s" % (kind, k["sent"], k["delivered"], k["dsn"],
                                                          k["quarantined"], pct(v, 50), pct(v, 99),
                                                          to[EXPECT[kind]]))
    allv = sorted(x for kind in lat for x in lat[kind] if EXPECT[kind] != "quarantined")
    print("all delivered and refused: p50 %.3f s, p99 %.3f s, max %.3f s" %
          (pct(allv, 50), pct(allv, 99), allv[-1] if allv else float("nan")))
    rc = 0
    with open(os.path.join(d, "bad"), "w") as f:
        for what in ("missing", "duplicate", "wrong"):
            for x in bad[what][:5]:
                f.write("%s %s\n" % (x.split("(")[0], what))
    for what in ("missing", "duplicate", "wrong", "refused at submission"):
        lst = bad[what]
        print("%s: %d%s%s" % (what, len(lst), ": " if lst else "", " ".join(lst[:20]) +
                              (" ..." if len(lst) > 20 else "")))
        if lst:
            rc = 1
    if stray:
        print("not ours (stray) at the sink or in the quarantine: %d: %s" % (len(stray), " ".join(stray[:10])))
    return rc


def main(argv):
    """main - the subcommands"""
    if len(argv) == 9 and argv[1] == "submit":
        d, port, n, conc, big, window, tf = argv[2], int(argv[3]), int(argv[4]), int(argv[5]), \
            int(argv[6]), int(argv[7]), argv[8]
        Submitter(d, port, n, conc, window, Generator(big, tf)).run()
        return 0
    if len(argv) == 6 and argv[1] == "collect":
        collect(argv[2], argv[3], int(argv[4]), argv[5])
        return 0
    if len(argv) == 4 and argv[1] == "report":
        return report(argv[2], argv[3])
    sys.stderr.write("usage: soak.py submit|collect|report ... (see the top of the file)\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
