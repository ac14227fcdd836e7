#!/bin/bash
# t25_smtpd_failures - postsift-filter -m smtpd as the daemon in the
# advanced design ("postsift-postfix install advanced": Postfix's scan
# transport -> the daemon -> the 10026 smtpd -> the sink) under faults.
# Nothing may be lost and nothing delivered twice:
#   a. the 10026 smtpd is down: the daemon answers 4xx (a client sent
#      straight to it sees 451), Postfix defers the mail (postqueue shows
#      it, no bounce), and once the 10026 smtpd is back and the queue is
#      flushed it is delivered exactly once;
#   b. kill -9 of the worker serving a slow client in the middle of DATA:
#      the client sees the connection drop, nothing of that message is
#      delivered, the death is logged, the worker replaced, the daemon
#      still serves; and kill -9 of the worker handling a message of the
#      scan transport (held at the 10026 smtpd's DATA by a "sleep"
#      restriction): Postfix defers it and delivers it exactly once after
#      the retry;
#   c. 500 messages straight into the daemon (5 parallel lanes of
#      postsift-smtpcli -n) while a new .ndb signature appears in
#      clamav_database_directory (signature_check_interval 2s) and then a
#      SIGHUP: zero 4xx, zero refused connections, all 500 at the sink
#      exactly once; a message with the marker string is clean before the
#      change and infected after it. Then 500 messages through Postfix
#      with two SIGHUPs during the stream: zero 4xx to the client, no
#      deferral and no refused connection in Postfix's log, 500 at the
#      sink exactly once. No worker may die on its own meanwhile.

. "$(dirname "$0")/lib.sh"
need_root
plan 100
need_prog postfix postconf postqueue smtp-sink swaks nc ss python3 pgrep
getent passwd "$FILTER_USER" >/dev/null || die "no user $FILTER_USER (run scripts/install-deps)"
FILTER=$BUILD_DIR/bin/postsift-filter
SMTPCLI=$BUILD_DIR/bin/postsift-smtpcli
RAW=$TOP/tests/integ/smtpraw.py
{ [ -x "$FILTER" ] && [ -x "$SMTPCLI" ]; } || die "no $FILTER or $SMTPCLI (run make)"
[ -r "$RAW" ] || die "no $RAW"

BG_PIDS=()
DAEMON=
# Our helpers (and their children) must not outlive the test (the daemon
# is ps_daemon_start's: lib.sh's cleanup kills it)
on_cleanup 'for p in "${BG_PIDS[@]}"; do pkill -KILL -P "$p"; kill -KILL "$p"; wait "$p"; done 2>/dev/null'
# logged REGEX [TIMEOUT] - wait for an extended regex in postsift's log
logged() { wait_for "${2:-10}" grep -qE -- "$1" "$PS_LOG"; }
# nworkers - the daemon's current worker count; workers_are N
nworkers() { pgrep -P "$DAEMON" | wc -l; }
workers_are() { [ "$(nworkers)" -eq "$1" ]; }
# reloads_ge N - at least N "signatures reloaded" lines in postsift's log
reloads_ge() { [ "$(grep -c 'signatures reloaded:' "$PS_LOG")" -ge "$1" ]; }
# conn_pids SSFILTER - pids of our daemon's workers with an established
# TCP connection matching the ss filter
conn_pids() {
	local p
	for p in $(ss -tnpH state established "$1" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
		[ "$(ps -o ppid= -p "$p" 2>/dev/null | tr -d ' ')" = "$DAEMON" ] && echo "$p"
	done
}
# at_sink RCPT - messages at the sink for RCPT (complete ones: call when
# the queue is empty)
at_sink() { grep -lF "X-Rcpt-Args: <$1>" "$SINK_DIR"/msg.* 2>/dev/null | wc -l; }
# sent_to_sink RCPT - Postfix's deliveries of RCPT to the sink
sent_to_sink() { grep -F "to=<$1>, relay=127.0.0.1[127.0.0.1]:$SINK_PORT," "$(pf_log)" | grep -c 'status=sent'; }
# scan_lines RCPT - the scan transport's log lines for RCPT
scan_lines() { grep -F "to=<$1>, relay=127.0.0.1[127.0.0.1]:$DPORT," "$(pf_log)"; }
# direct RCPT FILE [ARGS] - one message straight into the daemon; output
# (replies, summary) on stdout
direct() {
	local rcpt=$1 file=$2
	shift 2
	"$SMTPCLI" -t 60 -H client.postsift.test -s "[127.0.0.1]:$DPORT" -f sender@example.com \
		-r "$rcpt" "$@" "$file"
}
# submit TAG - a clean message through Postfix to fault-TAG@example.net;
# sets RCPT and EML
submit() {
	RCPT=fault-$1@example.net
	EML=$PF_DIR/$1.eml
	mk_msg "$EML" "fault $1"
	check "$1: submission" send_msg "$EML" sender@example.com "$RCPT"
}
# expect_deferred TAG WHY - RCPT deferred by the scan transport, WHY
# (extended regex) in its log line; queued, not bounced, nothing at the sink
expect_deferred() {
	local tag=$1 line
	check "$tag: deferred by the scan transport" \
		pf_log_wait "to=<$RCPT>, relay=127.0.0.1\[127.0.0.1\]:$DPORT, .*status=deferred" 30
	line=$(scan_lines "$RCPT" | grep 'status=deferred' | head -n 1)
	note "$tag: ${line#*relay=}"
	check "$tag: the reason: $2" eval "printf '%s\n' \"\$line\" | grep -qE -- '$2'"
	check "$tag: postqueue shows it" eval "pf_postqueue | grep -qF '$RCPT'"
	check "$tag: not bounced" eval "! grep -F 'to=<$RCPT>' '$(pf_log)' | grep -q 'status=bounced'"
	check "$tag: nothing at the sink" test "$(at_sink "$RCPT")" -eq 0
}
# expect_once TAG - after a flush, RCPT delivered exactly once
expect_once() {
	local tag=$1 m
	pf_flush
	check "$tag: delivered after the repair" wait_for 40 eval "[ \$(sent_to_sink '$RCPT') -ge 1 ]"
	check "$tag: queue empty" wait_queue_empty 30
	sleep 2
	check "$tag: exactly once at the sink" test "$(at_sink "$RCPT")" -eq 1
	check "$tag: exactly one delivery in maillog" test "$(sent_to_sink "$RCPT")" -eq 1
	m=$(grep -lF "X-Rcpt-Args: <$RCPT>" "$SINK_DIR"/msg.* 2>/dev/null | head -n 1)
	check "$tag: scanned once" test "$(sink_body "${m:-/dev/null}" | grep -c '^X-Virus-Scanned: postsift')" -eq 1
	check "$tag: body identical" cmp -s <(msg_body "$EML") <(sink_body "${m:-/dev/null}" | msg_body /dev/stdin)
	check "$tag: the scan transport sent it once" test "$(scan_lines "$RCPT" | grep -c 'status=sent')" -eq 1
	check "$tag: never bounced" eval "! grep -q 'status=bounced' '$(pf_log)'"
}

# ------------------------------------------------------------------ setup
pf_new fx
sink_start
DPORT=$(free_port)
clamav_testdb "$PF_DIR/dsigs" || die "clamav_testdb"
chmod -R go+rX "$PF_DIR/dsigs"
ps_conf "smtpd_listen=127.0.0.1:$DPORT" smtpd_workers=4 "smtpd_pid_file=$PF_DIR/ps/daemon.pid" \
	"clamav_database_directory=$PF_DIR/dsigs" signature_check_interval=2s
pf_start
"$PP" install advanced -c "$PF_CONF" -p "$PS_CONF" -b "$FILTER" -r "$PF_REINJECT_PORT" \
	-P "$DPORT" -l "$PF_SMTP_PORT" >"$PF_DIR/install.log" 2>&1 ||
	die "install advanced: $(tail -n 5 "$PF_DIR/install.log")"
pf_reload
ps_daemon_start daemon
DAEMON=$DPID
wait_for 15 pf_wait_port "$DPORT" 1 || die "the daemon does not listen: $(tail -n 5 "$PS_LOG" "$PF_DIR/daemon.out")"
pf_wait_port "$PF_REINJECT_PORT" 10 || die "no 10026 smtpd on $PF_REINJECT_PORT"
wait_for 10 workers_are 4 || die "the daemon has $(nworkers) workers, not 4"
R_SERVICE=127.0.0.1:$PF_REINJECT_PORT/inet
R_ENTRY=$(pfc -M "$R_SERVICE")
[ -n "$R_ENTRY" ] || die "install advanced made no $R_SERVICE"
KILLS=0
t0=$SECONDS

# The path works before we break it.
submit ok
check "ok: delivered" wait_for 30 eval "[ \$(sent_to_sink '$RCPT') -ge 1 ]"
check "ok: through the daemon" eval "scan_lines '$RCPT' | grep -q status=sent"
wait_queue_empty 20

# ------------------------------------------------ a. the 10026 smtpd is down
t=$SECONDS
pfc -M# "$R_SERVICE" || fail "a: disable the 10026 smtpd"
pf_reload
check "a: the 10026 port is closed" wait_for 15 eval "! nc -z 127.0.0.1 $PF_REINJECT_PORT"
mk_msg "$PF_DIR/direct.eml" "straight into the daemon"
rc=0
direct direct-a@example.net "$PF_DIR/direct.eml" >"$PF_DIR/a.direct" 2>&1 || rc=$?
note "a: direct: $(tr '\n' ' ' <"$PF_DIR/a.direct")"
check "a: direct client: exit 75 (temporary)" test "$rc" -eq 75
check "a: direct client: MAIL FROM got 451 4.4.1" grep -q '^failed: MAIL FROM:<sender@example.com>: 451 4\.4\.1' "$PF_DIR/a.direct"
submit a
expect_deferred a "said: 4[0-9][0-9] 4\.[0-9]+\.[0-9]+"
check "a: the daemon logged the failed downstream" logged "$PF_REINJECT_PORT: Connection refused" 5
pfc -M "$R_SERVICE=$R_ENTRY" || fail "a: re-enable the 10026 smtpd"
check "a: the 10026 entry is back as it was" test "$(pfc -M "$R_SERVICE")" = "$R_ENTRY"
pf_reload
check "a: the 10026 port is back" pf_wait_port "$PF_REINJECT_PORT" 15
expect_once a
check "a: the direct message was not delivered (the client was told 4xx)" test "$(at_sink direct-a@example.net)" -eq 0
note "a: $((SECONDS - t))s"

# ------------------------------------- b1. kill -9 of a worker in mid-DATA
t=$SECONDS
python3 "$RAW" slowdata "$DPORT" slow-b1@example.net "$PF_DIR/b1.port" 30 >"$PF_DIR/b1.out" 2>&1 &
slow=$!
BG_PIDS+=("$slow")
check "b1: the slow client is in DATA" wait_for 15 test -s "$PF_DIR/b1.port"
cport=$(cat "$PF_DIR/b1.port" 2>/dev/null)
victim=$(conn_pids "( sport = :$DPORT and dport = :${cport:-0} )")
note "b1: client port ${cport:-?}, worker ${victim:-none}"
check "b1: exactly one worker serves it" test "$(printf '%s' "$victim" | grep -c .)" -eq 1
if [ -n "$victim" ]; then
	kill -KILL "$victim"
	KILLS=$((KILLS + 1))
fi
wait "$slow"
note "b1: client: $(tr '\n' ' ' <"$PF_DIR/b1.out")"
check "b1: the client saw 354 first" grep -q '^<<< 354' "$PF_DIR/b1.out"
check "b1: the client sees the connection drop" test "$(tail -n 1 "$PF_DIR/b1.out")" = EOF
check "b1: the death is logged" logged "worker ${victim:-X} killed by signal 9" 5
check "b1: the worker is replaced" wait_for 10 workers_are 4
check "b1: the daemon still serves" eval "direct after-b1@example.net '$PF_DIR/direct.eml' | grep -q '^queued as'"
check "b1: which is delivered" wait_for 20 eval "[ \$(sent_to_sink after-b1@example.net) -eq 1 ]"
sleep 2
check "b1: nothing of the cut message reached Postfix's queue" eval "! grep -q 'to=<slow-b1@' '$(pf_log)'"
check "b1: nothing of it at the sink" test "$(at_sink slow-b1@example.net)" -eq 0
note "b1: $((SECONDS - t))s"

# ------------------- b2. kill -9 of the worker handling the scan transport
# The 10026 smtpd holds DATA for 12 s (smtpd_data_restrictions = sleep):
# the message is in the daemon, received and scanned, and the worker
# waits for the downstream's 354 when it is killed.
t=$SECONDS
pfc -P "$R_SERVICE/smtpd_data_restrictions=sleep,12" || fail "b2: sleep restriction"
pf_reload
sleep 1
submit b2
victim=
end=$((SECONDS + 20))
while [ -z "$victim" ] && [ "$SECONDS" -lt "$end" ]; do
	victim=$(conn_pids "( dport = :$PF_REINJECT_PORT )")
	sleep 0.2
done
check "b2: a worker talks to the 10026 smtpd" test -n "$victim"
sleep 3
check "b2: and the scan transport has not finished" eval "! scan_lines '$RCPT' | grep -q status="
note "b2: killing worker(s) $victim"
for p in $victim; do
	kill -KILL "$p"
	KILLS=$((KILLS + 1))
done
# (the sleep stays until the deferral is seen: a retry cannot finish)
expect_deferred b2 "lost connection|Connection reset|while"
check "b2: the death is logged" logged "worker ${victim%% *} killed by signal 9" 5
check "b2: the worker is replaced" wait_for 10 workers_are 4
pfc -M "$R_SERVICE=$R_ENTRY" || fail "b2: restore the 10026 smtpd"
pf_reload
sleep 10   # the killed session's 10026 smtpd wakes up and finds no client
expect_once b2
note "b2: $((SECONDS - t))s"

# ----------------------------- c. 500 messages, new signatures, SIGHUP
# stream NAME TARGET RCPT PAUSE - 500 messages in 5 lanes, each lane 20
# connections of postsift-smtpcli -n 5, PAUSE seconds between them (the
# stream must outlast the reloads); replies in $PF_DIR/NAME.N.out
stream() {
	local lane
	STREAM=()
	for lane in 1 2 3 4 5; do
		(
			for _ in $(seq 1 20); do
				"$SMTPCLI" -t 60 -H lane$lane.postsift.test -s "$2" -f sender@example.com \
					-r "$3" -n 5 "$PF_DIR/stream.eml"
				echo "exit=$?"
				sleep "$4"
			done
		) >"$PF_DIR/$1.$lane.out" 2>&1 &
		STREAM+=("$!")
		BG_PIDS+=("$!")
	done
}
# accepted NAME - final 250 replies ("queued as") the lanes have got so far
accepted() { cat "$PF_DIR/$1".*.out 2>/dev/null | grep -cE '^<<< 250 .*queued as'; }
# filtered RCPT - messages the daemon has logged as sent for RCPT
filtered() { grep -F "to=<$1>" "$PS_LOG" | grep -c 'status=sent'; }
# accepted_ge NAME N / filtered_ge RCPT N - for wait_for
accepted_ge() { [ "$(accepted "$1")" -ge "$2" ]; }
filtered_ge() { [ "$(filtered "$1")" -ge "$2" ]; }
# stream_checks NAME RCPT - the client side of a stream
stream_checks() {
	local out=$PF_DIR/$1
	check "$1: 500 final 250 replies" test "$(accepted "$1")" -eq 500
	check "$1: zero 4xx replies" test "$(cat "$out".*.out | grep -cE '^<<< 4')" -eq 0
	check "$1: zero 5xx replies" test "$(cat "$out".*.out | grep -cE '^<<< 5')" -eq 0
	check "$1: zero failed sessions (refused, lost, timed out)" test "$(cat "$out".*.out | grep -c '^failed')" -eq 0
	check "$1: every client exited 0" test "$(cat "$out".*.out | grep -c '^exit=0$')" -eq 100
}

mk_msg "$PF_DIR/stream.eml" "stream"
MARKER=postsift-t25-marker-$RANDOM$RANDOM
printf 'From: a@example.com\nTo: b@example.net\nSubject: marker\n\n%s\n' "$MARKER" >"$PF_DIR/marker.eml"
sink_clear

t=$SECONDS
direct marker-before@example.net "$PF_DIR/marker.eml" >"$PF_DIR/marker-before.out" 2>&1
check "c1: marker before the change: accepted" grep -q '^queued as' "$PF_DIR/marker-before.out"
check "c1: marker before the change: clean" logged "verdict=clean, .*to=<marker-before@example.net>" 10
reloads0=$(grep -c 'signatures reloaded:' "$PS_LOG")
ts=$SECONDS
stream c1 "[127.0.0.1]:$DPORT" stream-c1@example.net 0.25
wait_for 60 accepted_ge c1 100
at_sig=$(accepted c1)
printf 'Postsift-T25-Marker:0:*:%s\n' "$(printf '%s' "$MARKER" | od -An -v -tx1 | tr -d ' \n')" \
	>"$PF_DIR/dsigs/marker.ndb"
chmod 644 "$PF_DIR/dsigs/marker.ndb"
check "c1: the new signature is noticed" logged 'reload \(signatures changed\)' 15
check "c1: and loaded" wait_for 15 reloads_ge $((reloads0 + 1))
at_reload=$(accepted c1)
wait_for 60 accepted_ge c1 300
at_hup=$(accepted c1)
kill -HUP "$DAEMON"
check "c1: SIGHUP reload logged" wait_for 15 reloads_ge $((reloads0 + 2))
at_hup_done=$(accepted c1)
for p in "${STREAM[@]}"; do wait "$p"; done
note "c1: signature added after $at_sig messages, reloaded by $at_reload; SIGHUP after $at_hup, reloaded by $at_hup_done; stream took $((SECONDS - ts))s"
check "c1: the signature reload finished while the stream was running" test "$at_reload" -lt 500
check "c1: the SIGHUP reload finished while the stream was running" test "$at_hup_done" -lt 500
stream_checks c1 stream-c1@example.net
direct marker-after@example.net "$PF_DIR/marker.eml" >"$PF_DIR/marker-after.out" 2>&1
note "c1: marker after: $(tail -n 1 "$PF_DIR/marker-after.out")"
check "c1: marker after the change: infected, with the new signature" \
	logged "verdict=infected, .*Postsift-T25-Marker.*to=<marker-after@example.net>" 10
check "c1: marker after the change: the client is told (quarantined)" \
	grep -qiE '^<<< 250 .*quarantine' "$PF_DIR/marker-after.out"
check "c1: the queue empties" wait_queue_empty 90
sleep 1
n=$(at_sink stream-c1@example.net)
check "c1: exactly 500 stream messages at the sink (got $n)" test "$n" -eq 500
check "c1: the daemon logged 500 sent" test "$(filtered stream-c1@example.net)" -eq 500
check "c1: the marker message before the change reached the sink" test "$(at_sink marker-before@example.net)" -eq 1
check "c1: the marker message after the change did not" test "$(at_sink marker-after@example.net)" -eq 0
check "c1: the 10026 smtpd rejected nothing" eval "! grep -E 'smtpd\[[0-9]+\]: (NOQUEUE: reject|warning)' '$(pf_log)'"
note "c1: $((SECONDS - t))s"

# c2. Through Postfix: the scan transport's sessions (Postfix caches and
# reuses them) meet a SIGHUP, a second new signature and another SIGHUP;
# a message with the second marker, submitted while the stream flows
# right after that reload, is infected (clean before the change).
t=$SECONDS
MARKER2=postsift-t25-second-$RANDOM$RANDOM
printf 'From: a@example.com\nTo: b@example.net\nSubject: marker 2\n\n%s\n' "$MARKER2" >"$PF_DIR/marker2.eml"
check "c2: marker 2 before the change: submitted" send_msg "$PF_DIR/marker2.eml" sender@example.com marker2-before@example.net
check "c2: marker 2 before the change: clean" logged "verdict=clean, .*to=<marker2-before@example.net>" 30
wait_queue_empty 20
reloads0=$(grep -c 'signatures reloaded:' "$PS_LOG")
loglines0=$(wc -l <"$(pf_log)")
ts=$SECONDS
stream c2 "[127.0.0.1]:$PF_SMTP_PORT" stream-c2@example.net 0.8
wait_for 90 filtered_ge stream-c2@example.net 100
h1=$(filtered stream-c2@example.net)
kill -HUP "$DAEMON"
check "c2: first SIGHUP reload logged" wait_for 15 reloads_ge $((reloads0 + 1))
h1done=$(filtered stream-c2@example.net)
wait_for 90 filtered_ge stream-c2@example.net 200
s1=$(filtered stream-c2@example.net)
printf 'Postsift-T25-Second:0:*:%s\n' "$(printf '%s' "$MARKER2" | od -An -v -tx1 | tr -d ' \n')" \
	>"$PF_DIR/dsigs/second.ndb"
chmod 644 "$PF_DIR/dsigs/second.ndb"
check "c2: the second signature is loaded" wait_for 15 reloads_ge $((reloads0 + 2))
s1done=$(filtered stream-c2@example.net)
check "c2: marker 2 after the change: submitted" send_msg "$PF_DIR/marker2.eml" sender@example.com marker2-after@example.net
check "c2: marker 2 after the change: infected, with the second signature" \
	logged "verdict=infected, .*Postsift-T25-Second.*to=<marker2-after@example.net>" 30
m2=$(filtered stream-c2@example.net)
wait_for 90 filtered_ge stream-c2@example.net 330
h2=$(filtered stream-c2@example.net)
kill -HUP "$DAEMON"
check "c2: second SIGHUP reload logged" wait_for 15 reloads_ge $((reloads0 + 3))
h2done=$(filtered stream-c2@example.net)
for p in "${STREAM[@]}"; do wait "$p"; done
note "c2: SIGHUP after $h1 (reloaded by $h1done), signature after $s1 (reloaded by $s1done, marker 2 scanned by $m2), SIGHUP after $h2 (reloaded by $h2done) messages through the daemon; stream took $((SECONDS - ts))s"
check "c2: the marker 2 message was scanned while the stream flowed" test "$m2" -lt 500
check "c2: every reload finished while mail was flowing" test "$h2done" -lt 500
stream_checks c2 stream-c2@example.net
check "c2: the queue empties" wait_queue_empty 120
sleep 1
n=$(at_sink stream-c2@example.net)
check "c2: exactly 500 stream messages at the sink (got $n)" test "$n" -eq 500
check "c2: the scan transport sent 500" \
	test "$(tail -n +"$loglines0" "$(pf_log)" | grep -F "to=<stream-c2@example.net>, relay=127.0.0.1[127.0.0.1]:$DPORT," | grep -c 'status=sent')" -eq 500
check "c2: Postfix deferred nothing" eval "! tail -n +$loglines0 '$(pf_log)' | grep -q 'status=deferred'"
check "c2: Postfix saw no refused or failed connection to the daemon" \
	eval "! tail -n +$loglines0 '$(pf_log)' | grep -qE 'connect to 127\.0\.0\.1\[127\.0\.0\.1\]:$DPORT|[Cc]onnection refused'"
check "c2: no 4xx from the daemon in Postfix's log" eval "! tail -n +$loglines0 '$(pf_log)' | grep -qE 'said: 4[0-9][0-9]'"
check "c2: marker 2 before the change was delivered" test "$(at_sink marker2-before@example.net)" -eq 1
check "c2: marker 2 after the change was not" test "$(at_sink marker2-after@example.net)" -eq 0
note "c2: $((SECONDS - t))s"

# ------------------------------------------------------------------ end
check "end: the daemon is alive" kill -0 "$DAEMON"
check "end: no worker died but the $KILLS we killed" \
	test "$(grep -c 'killed by signal' "$PS_LOG")" -eq "$KILLS"
check "end: no worker exited with an error" eval "! grep -q 'exited with' '$PS_LOG'"
check "end: queue empty" wait_queue_empty 10
check "end: no bounce at all" eval "! grep -q 'status=bounced' '$(pf_log)'"
rc=0
ps_daemon_stop "$DAEMON" 30 || rc=$?
DAEMON=
check "end: the daemon stops with exit 0" test "$rc" -eq 0
note "total: $((SECONDS - t0))s"

finish
