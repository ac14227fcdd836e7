#!/bin/bash
# t27_notify - the daemon under a service manager: sd_notify readiness and
# the log reopen for logrotate
#
# A fake service manager (a python3 unix datagram socket as NOTIFY_SOCKET,
# with SO_PASSCRED for the sender's pid) starts postsift-filter -m smtpd
# -d -F as systemd would for a Type=notify, NotifyAccess=main unit. At the
# moment READY=1 arrives it looks at the world: the log must already say
# "signatures loaded" and "daemon started", the master must already have
# its workers, and the port must answer 220 (Postfix, ordered after the
# unit, may send mail at once). READY=1 comes from the master's pid (what
# NotifyAccess=main accepts), once; no message ever comes from a worker
# (they drop NOTIFY_SOCKET). SIGHUP: RELOADING=1 then READY=1, around "signatures
# reloaded". SIGUSR2 (logrotate's postrotate) after the log file was
# renamed and created again (logrotate's "create"): the master's next
# line and a worker's next line go to the new file, nothing more to the
# old one, and nothing is reloaded (no "reload" line, the same workers).
# SIGTERM: STOPPING=1, exit 0. Needs root (the daemon starts as root and
# drops to the postsift user) and python3; no Postfix instance runs.

. "$(dirname "$0")/lib.sh"
need_root
plan 23
need_prog python3 pgrep
getent passwd "$FILTER_USER" >/dev/null || die "no user $FILTER_USER (run scripts/install-deps)"
FILTER=$BUILD_DIR/bin/postsift-filter
[ -x "$FILTER" ] || die "no $FILTER (run make)"

# The fake service manager: argv SOCKET OUT LOG PORT. One line per
# datagram in OUT: "pid=PID log_loaded=0|1 log_started=0|1 workers=N
# greeting=... | MESSAGE" (the message's newlines as " | "); the state
# columns are looked at when the datagram arrives.
RECV='
import os, socket, sys
path, out, log, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(path)
os.chmod(path, 0o777)
def logged(text):
    try:
        with open(log, errors="replace") as f:
            return int(text in f.read())
    except OSError:
        return 0
def children(pid):
    n = 0
    for d in os.listdir("/proc"):
        try:
            with open("/proc/%s/stat" % d) as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    n += 1
        except (OSError, ValueError, IndexError):
            pass
    return n
def greeting():
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=10)
        line = c.makefile("rb").readline().decode(errors="replace").strip()
        c.close()
        return line or "NONE"
    except OSError as e:
        return "REFUSED(%s)" % e
while True:
    msg, anc, flags, addr = s.recvmsg(4096, socket.CMSG_SPACE(12))
    pid = -1
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = int.from_bytes(data[0:4], sys.byteorder)
    text = msg.decode(errors="replace")
    state = "log_loaded=%d log_started=%d workers=%d" % (
        logged("signatures loaded"), logged("daemon started"), children(pid))
    if "READY=1" in text:
        state += " greeting=" + greeting().replace(" ", "_")
    with open(out, "a") as f:
        f.write("pid=%d %s | %s\n" % (pid, state, text.replace("\n", " | ")))
'

# msgs - what the manager got so far; said PATTERN - a message matches
msgs() { cat "$NOUT" 2>/dev/null; }
said() { grep -qE -- "$1" "$NOUT" 2>/dev/null; }
# count PATTERN - how many messages match
count() { grep -cE -- "$1" "$NOUT" 2>/dev/null; }
# workers PID - the worker pids of master PID, sorted, on one line
workers() { pgrep -P "$1" | sort -n | tr '\n' ' '; }
# in_log FILE REGEX
in_log() { grep -qE -- "$2" "$1"; }
# greet - connect, read the greeting, leave
greet() {
	exec 3<>"/dev/tcp/127.0.0.1/$DPORT" || return 1
	read -t 10 -r _ <&3
	exec 3>&- 3<&-
}

# ------------------------------------------------------------------ setup
pf_new nt
ps_conf
DPORT=$(free_port)
NSOCK=$PF_DIR/notify.sock
NOUT=$PF_DIR/notify.out
PIDF=$PF_DIR/run/postsift-filter.pid
python3 -c "$RECV" "$NSOCK" "$NOUT" "$PS_LOG" "$DPORT" > "$PF_DIR/recv.err" 2>&1 &
RPID=$!
on_cleanup "kill $RPID 2>/dev/null"
wait_for 10 test -S "$NSOCK" || die "the fake service manager did not start: $(cat "$PF_DIR/recv.err")"

export NOTIFY_SOCKET=$NSOCK
ps_daemon_start main -v -o "smtpd_listen=127.0.0.1:$DPORT" \
	-o "smtpd_pid_file=$PIDF" -o smtpd_workers=2 -o signature_check_interval=1h
MAIN=$DPID
unset NOTIFY_SOCKET

# --- readiness --------------------------------------------------------------
wait_for 30 said 'READY=1' || note "$(tail -n 5 "$PF_DIR/main.out" "$PS_LOG" 2>&1)"
require "READY=1 arrives" said 'READY=1'
note "$(msgs)"
check "READY=1 is the first message" eval "msgs | head -n 1 | grep -q 'READY=1'"
check "READY=1 from the master (pid $MAIN), as NotifyAccess=main requires" \
	said "^pid=$MAIN .*READY=1"
check "at READY=1 the log already said 'signatures loaded'" said 'log_loaded=1 .*READY=1'
check "at READY=1 the log already said 'daemon started'" said 'log_started=1 .*READY=1'
check "at READY=1 the master already had its 2 workers" said 'workers=2 .*READY=1'
check "at READY=1 the port already answered 220" said 'greeting=220.*READY=1'
check "READY=1 comes with a STATUS= line" said 'READY=1 \| STATUS=.'

# --- SIGUSR2: reopen the log, reload nothing -----------------------------------
before=$(workers "$MAIN")
reloads=$(grep -c 'reload' "$PS_LOG")
mv "$PS_LOG" "$PS_LOG.1"
# what logrotate's "create 0640 postsift adm" does
install -m 640 -o "$FILTER_USER" /dev/null "$PS_LOG"
kill -USR2 "$MAIN"
check "SIGUSR2: the master's next line is in the new file" \
	wait_for 10 in_log "$PS_LOG" 'log file reopened \(SIGUSR2\)'
oldsize=$(stat -c %s "$PS_LOG.1")
greet
check "SIGUSR2: a worker's next line is in the new file" \
	wait_for 10 in_log "$PS_LOG" 'connect from 127\.0\.0\.1'
check "SIGUSR2: nothing more in the renamed file" test "$(stat -c %s "$PS_LOG.1")" -eq "$oldsize"
check "SIGUSR2: no reload in either file" \
	test "$(cat "$PS_LOG" "$PS_LOG.1" | grep -c 'reload')" -eq "$reloads"
check "SIGUSR2: the same workers (no new generation)" test "$(workers "$MAIN")" = "$before"
check "SIGUSR2: no message to the service manager" test "$(count .)" -eq 1

# --- SIGHUP: RELOADING=1, then READY=1 ----------------------------------------
kill -HUP "$MAIN"
check "SIGHUP: signatures reloaded" wait_for 30 in_log "$PS_LOG" 'signatures reloaded'
check "SIGHUP: RELOADING=1, then READY=1 again" \
	wait_for 10 eval "msgs | sed -n '2p;3p' | tr '\n' ' ' | grep -qE 'RELOADING=1.*READY=1'"
check "SIGHUP: both from the master" test "$(count "^pid=$MAIN ")" -eq 3

# --- SIGTERM: STOPPING=1 --------------------------------------------------------
rc=0
ps_daemon_stop "$MAIN" 20 || rc=$?
check "SIGTERM: the daemon exits 0 (exit $rc)" test "$rc" -eq 0
check "SIGTERM: STOPPING=1" said "^pid=$MAIN .*STOPPING=1"
check "every message came from the master, none from a worker" \
	test "$(count .)" -eq "$(count "^pid=$MAIN ")"

# --- without NOTIFY_SOCKET nothing is sent -------------------------------------
n=$(count .)
ps_daemon_start quiet -o "smtpd_listen=127.0.0.1:$DPORT" -o "smtpd_pid_file=$PIDF" \
	-o smtpd_workers=1 -o signature_check_interval=1h
Q=$DPID
check "no NOTIFY_SOCKET: the daemon starts" \
	wait_for 30 in_log "$PS_LOG" 'daemon started'
rc=0
ps_daemon_stop "$Q" 20 || rc=$?
check "no NOTIFY_SOCKET: stops with exit 0 (exit $rc)" test "$rc" -eq 0
check "no NOTIFY_SOCKET: no message" test "$(count .)" -eq "$n"

finish
