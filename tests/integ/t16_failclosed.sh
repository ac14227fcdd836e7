#!/bin/bash
# t16_failclosed - no usable signature database, no scanner: postsift
# fails closed in every design, and the bundled test signatures are used
# only when asked for by name. In a private Postfix (the simple design,
# pipe mode): an empty signature directory (and, when /var/lib/clamav
# holds no database, no clamav_database_directory at all) defers the mail,
# even with error_action = pass: it stays queued, nothing is delivered,
# nothing bounces, and maillog carries the filter's first line naming the
# directory and the fix. The same filter run directly exits 75 with that
# line first. The smtpd daemon (foreground and detached) and the milter
# daemon refuse to start. With clamav_database_directory = bundled the
# queued mail is delivered with X-Virus-Scanned saying TEST SIGNATURES
# ONLY, the log says so, and EICAR is caught. A database older than
# signature_max_age is a warning naming its age and the fix.

. "$(dirname "$0")/lib.sh"
need_root
# system_db - /var/lib/clamav holds a database (then the empty setting is
# not "no database" on this machine)
system_db() { ls /var/lib/clamav/*.cvd /var/lib/clamav/*.cld /var/lib/clamav/*.cud >/dev/null 2>&1; }
# The no-setting case needs an empty /var/lib/clamav; where freshclam has
# filled it, its three checks are not run (and not counted as passes).
if system_db; then plan 38; else plan 41; fi
need_prog postfix postconf postqueue smtp-sink swaks runuser nc
getent passwd "$FILTER_USER" >/dev/null || die "no user $FILTER_USER (run scripts/install-deps)"
FILTER=$BUILD_DIR/bin/postsift-filter
[ -x "$FILTER" ] || die "no $FILTER (run make)"

FIX='run freshclam, or set clamav_database_directory; clamav_database_directory = bundled loads only the test signatures'

# pipe_lines RCPT - maillog lines of the pipe service for RCPT
pipe_lines() { grep -F "to=<$1>, relay=postsift," "$(pf_log)"; }

# delivered_to RCPT - how many sink messages are addressed to RCPT
delivered_to() {
	local f n=0
	for f in $(sink_messages); do
		n=$((n + $(sink_rcpts "$f" | grep -cxF "$1")))
	done
	echo "$n"
}

# no_dsn - no bounce report at the sink
no_dsn() { ! grep -qil '^Content-Type: multipart/report' $(sink_messages) /dev/null; }


pf_new fc
EMPTY=$PF_DIR/emptydb
mkdir -p "$EMPTY"
chmod 755 "$EMPTY"
ps_conf "clamav_database_directory=$EMPTY" error_action=pass
ps_install || die "postsift-postfix install failed: $(tail -n 5 "$PF_DIR/install.log")"
sink_start
pf_start

# --- pipe mode: an empty database directory defers ------------------------
mk_msg "$PF_DIR/a.eml" "fail closed a"
check "empty dir: submitted" send_msg "$PF_DIR/a.eml" sender@example.com fc-a@example.net
check "empty dir: deferred by the pipe service" \
	pf_log_wait "to=<fc-a@example.net>, relay=postsift, .*status=deferred" 30
line=$(pipe_lines fc-a@example.net | grep 'status=deferred' | head -n 1)
note "empty dir: ${line#*relay=postsift, }"
check "empty dir: dsn=4.3.0" eval "printf '%s\n' \"\$line\" | grep -qF 'dsn=4.3.0, status=deferred ('"
check "empty dir: maillog names the directory" eval "printf '%s\n' \"\$line\" | grep -qF '$EMPTY'"
check "empty dir: maillog names the fix" eval "printf '%s\n' \"\$line\" | grep -qF 'run freshclam'"
check "empty dir: still in the queue" eval "pf_postqueue | grep -qF fc-a@example.net"
check "empty dir: postsift logs verdict=error, status=deferred" \
	grep -qE "verdict=error, action=defer, status=deferred .*detail=\".*$EMPTY.*from=<sender@example.com>, to=<fc-a@example.net>" "$PS_LOG"

# --- no setting and no system database ------------------------------------
if system_db; then
	note "/var/lib/clamav holds a database: the no-setting case (3 checks) is not run"
else
	ps_conf "clamav_database_directory=" error_action=pass
	mk_msg "$PF_DIR/b.eml" "fail closed b"
	check "no database: submitted" send_msg "$PF_DIR/b.eml" sender@example.com fc-b@example.net
	check "no database: deferred" \
		pf_log_wait "to=<fc-b@example.net>, relay=postsift, .*status=deferred" 30
	line=$(pipe_lines fc-b@example.net | grep 'status=deferred' | head -n 1)
	note "no database: ${line#*relay=postsift, }"
	check "no database: maillog names /var/lib/clamav and the fix" \
		eval "printf '%s\n' \"\$line\" | grep -F '/var/lib/clamav' | grep -qF 'run freshclam'"
fi
check "pipe: nothing delivered" test "$(sink_count)" -eq 0
check "pipe: nothing bounced" eval "! grep -q 'status=bounced' '$(pf_log)'"
check "pipe: no DSN" no_dsn

# --- the filter run directly: exit 75, the first line says why ------------
runuser -u "$FILTER_USER" -- "$FILTER" -m pipe -c "$PS_CONF" \
	-o "clamav_database_directory=$EMPTY" -f s@example.com -- r@example.net \
	< "$PF_DIR/a.eml" > "$PF_DIR/direct.out" 2>/dev/null
rc=$?
note "direct: $(head -n 1 "$PF_DIR/direct.out")"
check "direct: exit 75 (got $rc)" test "$rc" -eq 75
check "direct: first line names the directory and the fix" \
	eval "head -n 1 '$PF_DIR/direct.out' | grep -q '^4\.3\.0 .*$EMPTY.*; $FIX'"

# --- the daemons refuse to start -------------------------------------------
DPORT=$(free_port)
ps_daemon_start smtpd -o "smtpd_listen=127.0.0.1:$DPORT" \
	-o "smtpd_pid_file=$PF_DIR/ps/smtpd.pid" -o "clamav_database_directory=$EMPTY"
SPID=$DPID
check "smtpd -d -F: exits" wait_for 15 eval "! kill -0 $SPID 2>/dev/null"
ps_daemon_stop "$SPID" 1
rc=$?
check "smtpd -d -F: non-zero exit status ($rc)" test "$rc" -ne 0
check "smtpd -d -F: error names the directory and the fix" \
	eval "grep -F 'cannot set up the scanner' '$PF_DIR/smtpd.out' '$PS_LOG' | grep -F '$EMPTY' | grep -qF 'run freshclam'"
check "smtpd -d -F: never listened" eval "! nc -z 127.0.0.1 $DPORT"

"$FILTER" -m smtpd -d -c "$PS_CONF" -o "smtpd_listen=127.0.0.1:$DPORT" \
	-o "smtpd_pid_file=$PF_DIR/ps/detached.pid" -o "clamav_database_directory=$EMPTY" \
	> "$PF_DIR/detached.out" 2>&1
rc=$?
check "smtpd -d (detached): non-zero exit status ($rc)" test "$rc" -ne 0
p=$(cat "$PF_DIR/ps/detached.pid" 2>/dev/null)
[ -n "$p" ] && kill -0 "$p" 2>/dev/null && kill "$p"
check "smtpd -d (detached): no daemon left" eval "! nc -z 127.0.0.1 $DPORT"

MSOCK=$PF_DIR/ps/milter.sock
"$FILTER" -m milter -F -c "$PS_CONF" -o "milter_listen=unix:$MSOCK" \
	-o "milter_pid_file=$PF_DIR/ps/milter.pid" -o "clamav_database_directory=$EMPTY" \
	> "$PF_DIR/milter.out" 2>&1 &
MPID=$!
_ps_daemons+=("$MPID")
check "milter -F: exits" wait_for 15 eval "! kill -0 $MPID 2>/dev/null"
ps_daemon_stop "$MPID" 1
rc=$?
check "milter -F: non-zero exit status ($rc)" test "$rc" -ne 0
check "milter -F: error names the directory and the fix" \
	eval "grep -F 'cannot set up the scanner' '$PF_DIR/milter.out' '$PS_LOG' | grep -F '$EMPTY' | grep -qF 'run freshclam'"

# --- bundled: asked for by name, and said everywhere ------------------------
ps_conf "clamav_database_directory=bundled"
pf_flush
check "bundled: the deferred mail is delivered" wait_for 30 eval "[ \$(delivered_to fc-a@example.net) -eq 1 ]"
m=$(for f in $(sink_messages); do sink_rcpts "$f" | grep -qxF fc-a@example.net && echo "$f"; done | head -n 1)
check "bundled: X-Virus-Scanned says TEST SIGNATURES ONLY" \
	grep -q '^X-Virus-Scanned: postsift [0-9.]* (ClamAV [0-9.]*, TEST SIGNATURES ONLY) on filter.postsift.test$' "${m:-/dev/null}"
check "bundled: the log warns that only test signatures are loaded" \
	grep -qF 'clamav_database_directory = bundled: scanning with the 2 test signatures only' "$PS_LOG"
mk_eicar "$PF_DIR/eicar.com"
mk_msg_attach "$PF_DIR/eicar.eml" "$PF_DIR/eicar.com" eicar.com
check "bundled EICAR: submitted" send_msg "$PF_DIR/eicar.eml" sender@example.com fc-e@example.net
check "bundled EICAR: caught" \
	wait_for 30 grep -qE 'verdict=infected, action=quarantine, .*detail="Eicar-Test-Signature.*to=<fc-e@example.net>' "$PS_LOG"
check "bundled: the message's log line says scanner=test-signatures" \
	grep -qE 'verdict=infected, .*scanner=test-signatures, .*to=<fc-e@example.net>' "$PS_LOG"
check "bundled EICAR: queue settles" wait_queue_empty 30
check "bundled EICAR: not delivered" test "$(delivered_to fc-e@example.net)" -eq 0
check "bundled: nothing bounced" eval "! grep -q 'status=bounced' '$(pf_log)'"
sink_clear

# --- an old database: a warning with its age and the fix --------------------
OLD=$PF_DIR/olddb
mkdir -p "$OLD"
cp "$TESTROOT/sigs/"* "$OLD/"
touch -d '10 days ago' "$OLD"/*
chmod -R go+rX "$OLD"
ps_conf "clamav_database_directory=$OLD"
mk_msg "$PF_DIR/o.eml" "old signatures"
check "old db: submitted" send_msg "$PF_DIR/o.eml" sender@example.com fc-o@example.net
check "old db: delivered all the same" wait_for 30 eval "[ \$(delivered_to fc-o@example.net) -eq 1 ]"
check "old db: a warning names the directory, the age and the fix" \
	grep -qE "warning: the newest signatures in $OLD are (9 days 23|10 days 0) hours old \(signature_max_age = 259200s\): run freshclam" "$PS_LOG"
m=$(sink_messages | head -n 1)
check "old db: X-Virus-Scanned has no test-signature note" \
	eval "grep '^X-Virus-Scanned: ' '${m:-/dev/null}' | grep -qv 'TEST SIGNATURES'"
ps_conf "clamav_database_directory=$OLD" signature_max_age=30d
: > "$PS_LOG"
mk_msg "$PF_DIR/o2.eml" "old signatures, longer limit"
check "old db, signature_max_age 30d: submitted" send_msg "$PF_DIR/o2.eml" sender@example.com fc-o2@example.net
check "old db, signature_max_age 30d: delivered" wait_for 30 eval "[ \$(delivered_to fc-o2@example.net) -eq 1 ]"
check "old db, signature_max_age 30d: no warning" eval "! grep -q 'hours old' '$PS_LOG'"
check "no spool file left behind" test -z "$(ls -A "$PF_DIR/ps/spool")"
finish
