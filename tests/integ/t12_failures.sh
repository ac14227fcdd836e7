#!/bin/bash
# t12_failures - the exit contract of postsift-filter under pipe(8): every
# failure makes Postfix defer the mail (it stays in the queue, maillog says
# status=deferred with the filter's first line, nothing bounces, no DSN
# reaches the sender), and once the fault is repaired and the queue
# flushed the mail is delivered exactly once. Faults: reinjection smtpd
# down, unreadable signature directory, unknown setting, unwritable spool
# (root-owned, and ours but read-only), the filter killed by SIGKILL while
# it hangs on a silent clamd socket, pipe_deadline and clamd_timeout
# passed on that socket, a usage error in the pipe argv; and two that
# pipe(8) would bounce without the shipped pipe_delivery_status_filter:
# its own time limit passed, a filter program that dies with status 1.

. "$(dirname "$0")/lib.sh"
need_root
plan 242
need_prog postfix postconf postqueue smtp-sink swaks nc pgrep runuser
getent passwd "$FILTER_USER" >/dev/null || die "no user $FILTER_USER (run scripts/install-deps)"
[ -x "$BUILD_DIR/bin/postsift-filter" ] || die "no $BUILD_DIR/bin/postsift-filter (run make)"

pf_new fl
ps_conf
ps_install || die "postsift-postfix install failed: $(tail -n 5 "$PF_DIR/install.log")"
sink_start
pf_start
PIPE_ENTRY=$(pfc -M postsift/unix) || die "no postsift/unix service after install"
[ -n "$PIPE_ENTRY" ] || die "no postsift/unix service after install"

# pipe_lines RCPT - maillog lines of the pipe service for RCPT
pipe_lines() { grep -F "to=<$1>, relay=postsift," "$(pf_log)"; }

# filter_pids - our postsift-filter processes (other tests may run theirs)
filter_pids() { pgrep -u "$FILTER_USER" -f "postsift-filter .*-c $PS_CONF " || true; }

# spool_empty - no file left in the spool directory
spool_empty() { [ -z "$(ls -A "$PF_DIR/ps/spool" 2>/dev/null)" ]; }


# submit TAG [ATTACHMENT] - a clean message to fault-TAG@example.net
# (with ATTACHMENT: multipart, the file base64); sets RCPT, EML
submit() {
	RCPT=fault-$1@example.net
	EML=$PF_DIR/$1.eml
	if [ -n "${2:-}" ]; then
		mk_msg_attach "$EML" "$2"
	else
		mk_msg "$EML" "fault $1"
	fi
	check "$1: submission" send_msg "$EML" sender@example.com "$RCPT"
}

# expect_deferred TAG DSN TEXT - RCPT's mail is deferred by the pipe
# service with DSN and TEXT (a fixed string) in maillog, not bounced
expect_deferred() {
	local tag=$1 dsn=$2 text=$3 line
	check "$tag: deferred by the pipe service" \
		pf_log_wait "to=<$RCPT>, relay=postsift, .*status=deferred" 30
	line=$(pipe_lines "$RCPT" | grep 'status=deferred' | head -n 1)
	note "$tag: ${line#*relay=postsift, }"
	check "$tag: dsn=$dsn" eval "printf '%s\n' \"\$line\" | grep -qF 'dsn=$dsn, status=deferred ('"
	check "$tag: maillog has the text \"$text\"" \
		eval "printf '%s\n' \"\$line\" | grep -qF -- \"\$text\""
	check "$tag: postqueue shows it" eval "pf_postqueue | grep -qF '$RCPT'"
	check "$tag: still in the queue" test "$(pf_queue_count)" -ge 1
	check "$tag: not bounced" eval "! grep -F 'to=<$RCPT>' '$(pf_log)' | grep -q 'status=bounced'"
	check "$tag: no bounce in maillog" eval "! grep -q 'status=bounced' '$(pf_log)'"
	# (a retry may already have delivered it when the repair came first)
	check "$tag: no DSN at the sink" eval "! grep -qil '^Content-Type: multipart/report' \$(sink_messages) /dev/null"
	check "$tag: spool dir empty" spool_empty
}

# flush_until_delivered TIMEOUT - flush the queue every 3s until the sink
# has a message (a flush while the message is still being delivered, or
# while qmgr holds the destination back after a failure, does nothing)
flush_until_delivered() {
	local end=$((SECONDS + $1))
	while [ "$SECONDS" -lt "$end" ]; do
		pf_flush
		sink_wait 1 3 && return 0
	done
	return 1
}

# expect_delivered TAG - after the repair and a flush, delivered once
expect_delivered() {
	local tag=$1 m
	check "$tag: delivered after the repair" flush_until_delivered 40
	check "$tag: queue empty" wait_queue_empty 40
	sleep 1
	check "$tag: exactly once" test "$(sink_count)" -eq 1
	m=$(sink_messages | head -n 1)
	check "$tag: recipient" test "$(sink_rcpts "$m")" = "$RCPT"
	check "$tag: scanned once" test "$(sink_body "$m" | grep -c '^X-Virus-Scanned: postsift')" -eq 1
	check "$tag: body identical" \
		cmp -s <(msg_body "$EML") <(sink_body "$m" | msg_body /dev/stdin)
	check "$tag: pipe service sent it" \
		eval "pipe_lines '$RCPT' | grep -q 'status=sent'"
	check "$tag: never bounced" eval "! grep -q 'status=bounced' '$(pf_log)'"
	check "$tag: one sink delivery in maillog" \
		test "$(grep -F "to=<$RCPT>, relay=127.0.0.1[127.0.0.1]:$SINK_PORT," "$(pf_log)" | grep -c 'status=sent')" -eq 1
	check "$tag: spool dir empty" spool_empty
	sink_clear
}

# A clean message first: the setup works.
t0=$SECONDS
submit ok
check "ok: arrives" sink_wait 1 30
expect_delivered ok

# a. The reinjection smtpd is down: connection refused, 4.4.1.
t=$SECONDS
pfc -M# "127.0.0.1:$PF_REINJECT_PORT/inet" || fail "a: disable the reinjection smtpd"
pf_reload
check "a: reinjection port closed" wait_for 10 eval "! nc -z 127.0.0.1 $PF_REINJECT_PORT"
submit a
expect_deferred a 4.4.1 "cannot reinject to [127.0.0.1]:$PF_REINJECT_PORT"
pf_reinject_service
pf_reload
check "a: reinjection port back" pf_wait_port "$PF_REINJECT_PORT" 10
expect_delivered a
note "a: $((SECONDS - t))s"

# b. An unreadable signature directory (root's, 0700).
t=$SECONDS
mkdir -m 700 "$TESTROOT/rootdb"
cp "$TESTROOT/sigs"/* "$TESTROOT/rootdb/"
ps_conf "clamav_database_directory=$TESTROOT/rootdb"
submit b
expect_deferred b 4.3.0 "$TESTROOT/rootdb"
ps_conf
expect_delivered b
note "b: $((SECONDS - t))s"

# c. An unknown setting in postsift.conf.
t=$SECONDS
ps_conf "bogus_setting=1"
submit c
expect_deferred c 4.3.5 "configuration error"
check "c: the text names the setting" eval "pipe_lines '$RCPT' | grep 'status=deferred' | grep -q bogus_setting"
ps_conf
expect_delivered c
note "c: $((SECONDS - t))s"

# d. An unwritable spool: root-owned 0700.
t=$SECONDS
mkdir -m 700 "$TESTROOT/rootspool"
ps_conf "spool_dir=$TESTROOT/rootspool"
submit d
expect_deferred d 4.3.0 "$TESTROOT/rootspool"
ps_conf
expect_delivered d
note "d: $((SECONDS - t))s"

# d2. Our own spool, but read-only (0500): the spool file cannot be made.
t=$SECONDS
mkdir -m 500 "$TESTROOT/rospool"
chown "$FILTER_USER" "$TESTROOT/rospool"
ps_conf "spool_dir=$TESTROOT/rospool"
submit d2
expect_deferred d2 4.3.0 "$TESTROOT/rospool"
ps_conf
expect_delivered d2
note "d2: $((SECONDS - t))s"

# e. SIGKILL: the filter hangs on a clamd socket that accepts and never
# answers; kill -9 is a signal death, which pipe(8) defers.
t=$SECONDS
mkdir -m 755 "$TESTROOT/silent"
SILENT=$TESTROOT/silent/clamd.sock
nc -lkU "$SILENT" </dev/null >/dev/null 2>&1 &
nc_pid=$!
wait_for 5 test -S "$SILENT" || fail "e: silent socket" "nc -lkU did not create $SILENT"
chmod 666 "$SILENT"
ps_conf "scanner=clamd:unix:$SILENT" "clamd_timeout=300s"
submit e
check "e: the filter runs (hangs)" wait_for 20 eval '[ -n "$(filter_pids)" ]'
sleep 1
check "e: still hanging, nothing logged" eval "! pipe_lines '$RCPT' | grep -q status="
# Repair first, so that a retry after the kill scans normally.
ps_conf
for pid in $(filter_pids); do
	note "e: kill -9 $pid ($(tr '\0' ' ' < /proc/"$pid"/cmdline 2>/dev/null | cut -c1-120))"
	kill -9 "$pid"
done
expect_deferred e 4.3.0 "signal 9"
expect_delivered e
note "e: $((SECONDS - t))s"

# g. The same silent clamd, pipe_deadline 3s: the filter gives up itself.
t=$SECONDS
ps_conf "scanner=clamd:unix:$SILENT" "clamd_timeout=300s" "pipe_deadline=3s"
submit g
expect_deferred g 4.4.7 "pipe_deadline exceeded"
ps_conf
expect_delivered g
note "g: $((SECONDS - t))s"

# h. The same silent clamd, clamd_timeout 2s: a scanner error, deferred.
t=$SECONDS
ps_conf "scanner=clamd:unix:$SILENT" "clamd_timeout=2s"
submit h
expect_deferred h 4.3.0 "$SILENT"
check "h: logged verdict=error, action=defer" \
	eval "grep -F 'to=<$RCPT>' '$PS_LOG' | grep -q 'verdict=error, action=defer'"
ps_conf
expect_delivered h
note "h: $((SECONDS - t))s"

# i. The same silent clamd, pipe_deadline above pipe(8)'s own time limit
# (a misconfiguration): pipe(8) kills the filter and would bounce with
# "Command time limit exceeded"; the shipped pipe_delivery_status_filter
# makes it a deferral.
t=$SECONDS
check "i: the pipe service has the status filter" \
	eval "pfc -M postsift/unix | grep -q -- '-o pipe_delivery_status_filter=regexp:/'"
pfc -e "postsift_time_limit=3s"
pf_reload
ps_conf "scanner=clamd:unix:$SILENT" "clamd_timeout=300s" "pipe_deadline=600s"
submit i
expect_deferred i 4.3.0 "Command time limit exceeded"
ps_conf
pfc -X postsift_time_limit
pf_reload
expect_delivered i
note "i: $((SECONDS - t))s"
kill "$nc_pid" 2>/dev/null
wait "$nc_pid" 2>/dev/null

# f. A usage error in the pipe argv (no -f): exit 75, 4.3.5, not a bounce.
# The filter exits before reading stdin; the message is larger than a
# pipe buffer, so pipe(8) also sees EPIPE, and must still defer.
t=$SECONDS
bad=$(printf '%s\n' "$PIPE_ENTRY" | sed 's/ -f \${sender}//')
[ "$bad" != "$PIPE_ENTRY" ] || fail "f: argv without -f" "no -f \${sender} in: $PIPE_ENTRY"
pfc -M "postsift/unix=$bad" || fail "f: postconf -M"
pf_reload
head -c 300000 /dev/urandom > "$PF_DIR/random.dat"
submit f "$PF_DIR/random.dat"
check "f: message larger than a pipe buffer" test "$(stat -c %s "$EML")" -gt 200000
expect_deferred f 4.3.5 "missing -f sender"
pfc -M "postsift/unix=$PIPE_ENTRY" || fail "f: restore postconf -M"
pf_reload
expect_delivered f
note "f: $((SECONDS - t))s"

# j. The filter program dies with a status that is not 75 or 69 (here a
# stand-in that exits 1, as a crash or a missing library would): pipe(8)
# would bounce with "Command died with status 1"; the status filter
# defers it.
t=$SECONDS
bad=$(printf '%s\n' "$PIPE_ENTRY" | sed "s|argv=[^ ]*|argv=/bin/false|")
[ "$bad" != "$PIPE_ENTRY" ] || fail "j: argv with /bin/false" "no argv= in: $PIPE_ENTRY"
pfc -M "postsift/unix=$bad" || fail "j: postconf -M"
pf_reload
submit j
expect_deferred j 4.3.0 "Command died with status 1"
pfc -M "postsift/unix=$PIPE_ENTRY" || fail "j: restore postconf -M"
pf_reload
expect_delivered j
note "j: $((SECONDS - t))s"

check "end: queue empty" wait_queue_empty 10
check "end: no bounce at all" eval "! grep -q 'status=bounced' '$(pf_log)'"
note "total: $((SECONDS - t0))s"

finish
