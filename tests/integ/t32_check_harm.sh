#!/bin/bash
# t32_check_harm - more "postsift-postfix check" findings, each seeded
# alone into a fresh install as t30_check does (check exits 1 and reports
# that id only), with the harm it predicts shown by the mail flow where a
# test can show it:
#   simple:   flag O with a recipient limit above 1 (check only; t30
#             shows the harm of D); the pipe's argv[0] missing (mail deferred, never bounced,
#             thanks to the shipped pipe_delivery_status_filter); a broken
#             postsift.conf (deferred); the reinjection smtpd removed
#             (deferred, connection refused) or served by another daemon;
#             a content_filter naming a transport master.cf lacks
#             (deferred: mail transport unavailable); "sendmail -t" as
#             the pipe's reinjection (the envelope recipients are lost,
#             the To: header's address gets the mail instead)
#   advanced: a filter port that greets 220 but refuses EHLO (check
#             only: t30 shows a filter that is down); no XFORWARD from
#             the scan transport (the filter and the
#             reinjection smtpd never learn the queue id and client);
#             no_address_mappings on the reinjection smtpd as well as on
#             the listening one (a virtual alias is never applied: the
#             mail goes to the unaliased address);
#             smtp_data_done_timeout below the filter's limit with a scan
#             slower than it (Postfix gives up again and again, the filter
#             hands nothing on, nothing is delivered; after the fix the
#             message is delivered once); the reinjection smtpd's process
#             limit below the workers (a filter waits for an smtpd that is
#             busy and defers); the scan transport's concurrency above the
#             workers (a delivery waits for a worker that is busy and
#             times out)

. "$(dirname "$0")/checklib.sh"
plan 60

HOLD=
SLOW=
on_cleanup 'for _p in $HOLD $SLOW; do kill "$_p" 2>/dev/null; wait "$_p" 2>/dev/null; done'

# hold PORT STEP... - in the background, open an SMTP session to PORT, send
# each STEP (a command line) and read its reply, then keep the session
# open until released; the pid joins HOLD (so this runs in the test's own
# shell, not under check), the transcript goes to $HOLD_OUT
hold() {
	local port=$1
	shift
	HOLD_OUT=$(mktemp "$PF_DIR/hold.XXXXXX")
	python3 -c 'import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
def reply():
    while True:
        line = f.readline()
        if len(line) < 4 or line[3:4] != b"-":
            return line
print(reply().decode().strip(), flush=True)
for cmd in sys.argv[2:]:
    s.sendall(cmd.encode() + b"\r\n")
    print(reply().decode().strip(), flush=True)
print("held", flush=True)
time.sleep(300)' "$port" "$@" > "$HOLD_OUT" 2>&1 &
	HOLD="$HOLD $!"
}
# held - the last hold has done its steps, each answered 2xx
held() {
	wait_for 20 grep -q '^held$' "$HOLD_OUT" && ! grep -v '^held$' "$HOLD_OUT" | grep -qv '^2' ||
		{ cat "$HOLD_OUT"; return 1; }
}
# release - end the held sessions
release() {
	local p
	for p in $HOLD; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	HOLD=
}
# deferred_only - one message waits in the queue, nothing was delivered
# and nothing bounced. Complete queue files only (Postfix sets their
# owner execute bit): a transaction a held session keeps open has an
# incomplete one.
deferred_only() {
	local q s b
	q=$(find "$PF_QUEUE/incoming" "$PF_QUEUE/active" "$PF_QUEUE/deferred" -type f -perm -u+x | wc -l)
	s=$(sink_count)
	b=$(grep -c 'status=bounced' "$(pf_log)")
	[ "$q" -eq 1 ] && [ "$s" -eq 0 ] && [ "$b" -eq 0 ] ||
		{ echo "queued $q (want 1), delivered $s (want 0), bounced $b (want 0)"; return 1; }
}

# ================================================================ simple
pf_new sh
mk_msg "$TESTROOT/clean.eml" "postsift check harm"
sink_start
ps_conf
pf_start
R=127.0.0.1:$PF_REINJECT_PORT/inet
S=$PF_SMTP_PORT/inet
FPORT=$(free_port)

# 7. the pipe's program missing
reinstall simple
pipe_cmd 's|argv=[^ ]*|argv=/nonexistent/postsift-filter|'; reload
only "pipe command missing" pipe-command-missing
: > "$(pf_log)"
check "pipe command missing: submitted" send_msg "$TESTROOT/clean.eml" sender@example.com rcpt@example.net
check "pipe command missing: pipe(8) defers the message" pf_log_wait 'status=deferred' 30
check "pipe command missing: waiting in the queue, not bounced" deferred_only
drain

# 7. flag O (X-Original-To) with a recipient limit above 1, as flag D
# (t30_check shows the harm with D)
reinstall simple
pipe_cmd 's/flags=Rq/flags=ORq/'
only "pipe flag O" pipe-recipient-limit

# the filter's own configuration broken
reinstall simple
ps_conf no_such_setting=1
only "broken postsift.conf" filter-config
: > "$(pf_log)"
check "broken postsift.conf: submitted" send_msg "$TESTROOT/clean.eml" sender@example.com rcpt@example.net
check "broken postsift.conf: the filter defers the message" pf_log_wait 'status=deferred.*no_such_setting' 30
check "broken postsift.conf: waiting in the queue, not bounced" deferred_only
ps_conf
drain

# the reinjection smtpd missing
reinstall simple
pfc -MX "$R"; reload
only "reinjection smtpd missing" reinject-missing
: > "$(pf_log)"
check "reinjection smtpd missing: submitted" send_msg "$TESTROOT/clean.eml" sender@example.com rcpt@example.net
check "reinjection smtpd missing: the filter cannot reinject (connection refused)" \
	wait_for 30 grep -q "127.0.0.1\]:$PF_REINJECT_PORT.*refused" "$PS_LOG"
check "reinjection smtpd missing: waiting in the queue, not bounced" \
	eval 'pf_log_wait "status=deferred" 10 && deferred_only'
drain
# the reinjection port served by another daemon
reinstall simple
pfc -F "$R/command=qmqpd"; reload
only "reinjection port not smtpd" reinject-missing

# a content_filter naming a transport that master.cf lacks
reinstall simple
pfc -P "$S/content_filter=nosuch:dummy"; reload
only "filter transport missing" filter-transport-missing
: > "$(pf_log)"
check "filter transport missing: submitted" send_msg "$TESTROOT/clean.eml" sender@example.com rcpt@example.net
check "filter transport missing: deferred (mail transport unavailable)" \
	pf_log_wait 'status=deferred.*mail transport unavailable' 30
check "filter transport missing: waiting in the queue, not bounced" deferred_only
drain

# sendmail -t as the pipe's reinjection: the envelope recipients are lost
reinstall simple
pipe_cmd "s|argv=.*|argv=/usr/sbin/sendmail -C $PF_CONF -G -t -i -f \${sender}|"; reload
only "pipe sendmail -t (harm)" pipe-sendmail-t
check "sendmail -t: submitted to a@ and b@, To: rcpt@" \
	send_msg "$TESTROOT/clean.eml" sender@example.com a@example.net b@example.net
check "sendmail -t: something delivered" sink_wait 1 30
wait_queue_empty 20
check "sendmail -t: the To: header's address got it, the envelope recipients did not" \
	eval '[ "$(for f in $(sink_messages); do sink_rcpts "$f"; done | sort -u | tr "\n" " ")" = "rcpt@example.net " ]'
drain
"$PP" remove -c "$PF_CONF" >>"$PF_DIR/install.log" 2>&1
pf_stop

# ================================================================ advanced
# reinject_timeout short, so that a filter waiting for a busy reinjection
# smtpd gives up within the test
daemon_instance ah reinject_timeout=5s
mk_msg "$TESTROOT/clean2.eml" "postsift check harm, advanced"

# 4. the scan transport without XFORWARD
reinstall advanced
pfc -P "scan/unix/smtp_send_xforward_command=no"; reload
only "scan transport without XFORWARD" scan-xforward
: > "$(pf_log)"
check "no XFORWARD: submitted" send_msg "$TESTROOT/clean2.eml" sender@example.com rcpt@example.net
check "no XFORWARD: delivered" sink_wait 1 30
check "no XFORWARD: the filter does not know the queue id (NOQUEUE)" \
	wait_for 10 grep -q 'NOQUEUE: verdict=.*, status=sent .*, client=' "$PS_LOG"
check "no XFORWARD: the reinjection smtpd logs no orig_queue_id, no orig_client" \
	eval "pf_log_wait 'smtpd\[[0-9]+\]: [0-9A-F]+: client=' 5 && ! grep -q 'orig_queue_id=\|orig_client=' '$(pf_log)'"
wait_queue_empty 20
drain

# 3. no_address_mappings on the reinjection smtpd too: virtual aliases never
# applied (the listening smtpd leaves them to the reinjection smtpd)
reinstall advanced
printf 'alias@example.net real@example.net\n' > "$PF_DIR/virtual"
settle "$PF_DIR/virtual"
pfc -e "virtual_alias_maps=texthash:$PF_DIR/virtual"; reload
clean "virtual aliases with the install's settings"
check "virtual alias, as installed: submitted" send_msg "$TESTROOT/clean2.eml" sender@example.com alias@example.net
check "virtual alias, as installed: delivered" sink_wait 1 30
check "virtual alias, as installed: to the real address" \
	eval '[ "$(sink_rcpts "$(sink_messages | head -n 1)")" = real@example.net ]'
wait_queue_empty 20
drain
pfc -P "$R/receive_override_options=$(pfc -Ph "$R/receive_override_options"),no_address_mappings"; reload
only "reinjection smtpd with no_address_mappings" reinject-address-mappings
check "no_address_mappings twice: submitted" send_msg "$TESTROOT/clean2.eml" sender@example.com alias@example.net
check "no_address_mappings twice: delivered" sink_wait 1 30
check "no_address_mappings twice: the alias was never applied" \
	eval '[ "$(sink_rcpts "$(sink_messages | head -n 1)")" = alias@example.net ]'
wait_queue_empty 20
drain
pfc -X virtual_alias_maps

# 11. a filter port that greets but refuses EHLO
reinstall advanced
stop_daemon
python3 -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
while True:
    c, a = s.accept()
    try:
        c.sendall(b"220 not quite a filter\r\n")
        if c.recv(512):
            c.sendall(b"502 5.5.1 EHLO not implemented\r\n")
    except OSError:
        pass
    c.close()' "$FPORT" &
SLOW=$!
pf_wait_port "$FPORT" 10
only "filter that refuses EHLO" filter-not-answering
check "filter that refuses EHLO: the finding quotes the EHLO reply" grep -q 'EHLO reply: 502' "$PF_DIR/check.out"
kill "$SLOW" 2>/dev/null; wait "$SLOW" 2>/dev/null; SLOW=
start_daemon

# 8. smtp_data_done_timeout shorter than the scan
reinstall advanced
pfc -P "scan/unix/smtp_data_done_timeout=3s"; reload
only "scan data done timeout (harm)" scan-data-done-timeout
SPORT=$(free_port)
python3 "$TOP/tests/integ/slowclamd.py" "$SPORT" 6 > "$PF_DIR/slowclamd.out" 2>&1 &
SLOW=$!
pf_wait_port "$SPORT" 10
stop_daemon
daemon_conf reinject_timeout=5s "scanner=clamd:inet:127.0.0.1:$SPORT" clamd_timeout=60s
start_daemon
: > "$(pf_log)"
check "slow scan: submitted" send_msg "$TESTROOT/clean2.eml" sender@example.com rcpt@example.net
check "slow scan: Postfix gives up after end of data" \
	pf_log_wait 'timed out while sending end of data' 30
check "slow scan: the filter hands nothing on, twice" \
	wait_for 40 eval "[ \$(grep -c 'status=deferred (client gone before the hand-over)' '$PS_LOG') -ge 2 ]"
check "slow scan: nothing delivered, the message waits in the queue" deferred_only
pfc -PX "scan/unix/smtp_data_done_timeout"; reload
# flush_until_delivered - the queue manager may have throttled the scan
# destination after the time-outs: flush again every 10 s, up to 90 s
flush_until_delivered() {
	local i
	for i in 1 2 3 4 5 6 7 8 9; do
		pf_flush
		sink_wait 1 10 && return 0
	done
	pf_postqueue; tail -n 20 "$PS_LOG"; tail -n 20 "$(pf_log)"
	return 1
}
check "slow scan, timeout as installed: delivered" flush_until_delivered
wait_queue_empty 20
sleep 1
check "slow scan, timeout as installed: delivered exactly once" test "$(sink_count)" -eq 1
drain
stop_daemon
kill "$SLOW" 2>/dev/null; wait "$SLOW" 2>/dev/null; SLOW=
daemon_conf reinject_timeout=5s
start_daemon

# 5. the reinjection smtpd's process limit below the workers
reinstall advanced
pfc -F "$R/process_limit=1"; reload
only "reinject process limit (harm)" reinject-process-limit
# a session straight to the filter holds a worker, and through it the
# one reinjection smtpd (MAIL and RCPT are relayed in lock-step)
hold "$FPORT" "EHLO holder.test" "MAIL FROM:<hold@example.com>" "RCPT TO:<hold@example.net>"
check "reinject process limit: a session holds the one reinjection smtpd" held
: > "$(pf_log)"
check "reinject process limit: submitted" send_msg "$TESTROOT/clean2.eml" sender@example.com rcpt@example.net
check "reinject process limit: the second filter gives up waiting for an smtpd" \
	wait_for 30 grep -q "127.0.0.1\]:$PF_REINJECT_PORT.*timed out\|timeout.*127.0.0.1\]:$PF_REINJECT_PORT" "$PS_LOG"
check "reinject process limit: the message is deferred" pf_log_wait 'status=deferred.*451' 20
check "reinject process limit: nothing delivered meanwhile" deferred_only
release
pf_flush
check "reinject process limit: delivered once the smtpd is free" sink_wait 1 30
wait_queue_empty 20
drain

# 6. the scan transport's concurrency above the workers
reinstall advanced
pfc -F "scan/unix/process_limit=4"; reload
only "scan concurrency (harm)" scan-concurrency
# Postfix waits 300s for a greeting; 5s here, to see the time-out in the test
pfc -P "scan/unix/smtp_helo_timeout=5s"; reload
hold "$FPORT" "EHLO holder1.test"
check "scan concurrency: a session holds worker 1" held
hold "$FPORT" "EHLO holder2.test"
check "scan concurrency: a session holds worker 2" held
: > "$(pf_log)"
check "scan concurrency: submitted" send_msg "$TESTROOT/clean2.eml" sender@example.com rcpt@example.net
check "scan concurrency: Postfix gets no greeting from the busy filter and defers" \
	pf_log_wait 'status=deferred.*(timed out while receiving the initial server greeting|greeting)' 30
check "scan concurrency: nothing delivered meanwhile" deferred_only
release
pf_flush
check "scan concurrency: delivered once a worker is free" sink_wait 1 30
wait_queue_empty 20
drain

"$PP" remove -c "$PF_CONF" >>"$PF_DIR/install.log" 2>&1
stop_daemon
finish
