#!/bin/bash
# t60_metrics - the shared counters (metrics_file), through each design
# of a real private Postfix: pipe mode (simple design), the smtpd daemon
# (advanced design), the milter and spawn(8) (one filter process per
# connection), all counting into one private file.
# Each design gets the same known mix: 3 clean, 2 infected (EICAR), 1
# banned (.exe), 1 deferred (a command scanner that fails: verdict error,
# error_action defer). Then the Prometheus endpoint of both daemons
# (metrics_listen), scraped with curl, and "postsift-filter -m status"
# (table and --json) show exactly those counts per design and verdict,
# the deferrals by cause, the reinjections, the scan count, the
# signatures and the workers; other paths are 404, POST is 405; a killed
# endpoint process comes back; at the drain it goes away.

. "$(dirname "$0")/lib.sh"
need_root
plan 47
need_prog postfix postconf smtp-sink swaks curl python3 pgrep
getent passwd "$FILTER_USER" >/dev/null || die "no user $FILTER_USER (run scripts/install-deps)"
FILTER=$BUILD_DIR/bin/postsift-filter
[ -x "$FILTER" ] || die "no $FILTER (run make)"
SCAN=$TOP/tests/integ/cmdscan.sh

testroot_init
MDIR=$TESTROOT/metrics
mkdir -p "$MDIR"
chown "$FILTER_USER" "$MDIR"
chmod 700 "$MDIR"
MFILE=$MDIR/counters
# every design counts into $MFILE; a failing command scanner defers;
# Postfix does not retry a deferred message during the test
COMMON=("metrics_file=$MFILE" "scanner=clamav, command:$SCAN" "command_arguments=no-such-word"
	virus_action=quarantine banned_action=reject error_action=defer)
NORETRY=("minimal_backoff_time = 3600s" "maximal_backoff_time = 3600s" "queue_run_delay = 3600s")

# the mix, made once
W=$TESTROOT/msgs
mkdir -p "$W"
for i in 1 2 3; do mk_msg "$W/clean$i.eml" "clean $i"; done
mk_eicar "$W/eicar.com"
mk_msg_attach "$W/virus1.eml" "$W/eicar.com" eicar.com
mk_msg_attach "$W/virus2.eml" "$W/eicar.com" report.pdf
printf 'just text\n' > "$W/setup.txt"
mk_msg_attach "$W/banned.eml" "$W/setup.txt" setup.exe
mk_msg "$W/error.eml" "scanner failure"
printf 'CMDSCAN-ERROR\n' >> "$W/error.eml"
MIX="clean1 clean2 clean3 virus1 virus2 banned error"

# send_mix - the seven messages, with the null sender (no bounce of
# ours comes back through the filter)
send_mix() {
	local m
	for m in $MIX; do send_msg "$W/$m.eml" '<>' rcpt@example.net || true; done
}
# lines_at_least N - the postsift log of this instance has N message lines
lines_at_least() { [ "$(grep -c ': verdict=' "$PS_LOG")" -ge "$1" ]; }

# --- pipe mode ---------------------------------------------------------------
pf_new pipe
ps_conf "${COMMON[@]}"
check "pipe: install simple" ps_install
pfc -e "${NORETRY[@]}"
sink_start
pf_start
send_mix
check "pipe: 7 messages logged" wait_for 60 lines_at_least 7
check "pipe: the counter file is the filter user's, mode 0600" \
	test "$(stat -c '%U %a' "$MFILE")" = "$FILTER_USER 600"

# --- the smtpd daemon (advanced design) -------------------------------------
pf_new adv
FPORT=$(free_port) || die "no free port"
HPORT=$(free_port) || die "no free port"
ps_conf "${COMMON[@]}" "smtpd_listen=127.0.0.1:$FPORT" smtpd_workers=2 \
	"smtpd_pid_file=$PF_DIR/ps/daemon.pid" "metrics_listen=127.0.0.1:$HPORT"
ADV_CONF=$PS_CONF
pfc -e "${NORETRY[@]}"
sink_start
pf_start
check "adv: install advanced" postsift_postfix install advanced -c "$PF_CONF" \
	-p "$PS_CONF" -b "$FILTER" -r "$PF_REINJECT_PORT" -P "$FPORT" -l "$PF_SMTP_PORT"
ps_daemon_start daemon
DAEMON=$DPID
check "adv: the daemon listens" pf_wait_port "$FPORT" 15
check "adv: the metrics endpoint listens" pf_wait_port "$HPORT" 15
pf_wait_port "$PF_REINJECT_PORT" 10
send_mix
check "adv: 7 messages logged" wait_for 60 lines_at_least 7

# --- the milter ----------------------------------------------------------------
pf_new mil
MPORT=$(free_port) || die "no free port"
HPORT2=$(free_port) || die "no free port"
ps_conf "${COMMON[@]}" "milter_listen=inet:127.0.0.1:$MPORT" milter_workers=3 \
	"milter_pid_file=$PF_DIR/ps/milter.pid" "metrics_listen=127.0.0.1:$HPORT2"
pfc -e "smtpd_milters = inet:127.0.0.1:$MPORT" "milter_default_action = tempfail" \
	"${NORETRY[@]}"
sink_start
pf_start
"$FILTER" -m milter -F -c "$PS_CONF" >"$PF_DIR/milter.out" 2>&1 &
MILTER=$!
_ps_daemons+=("$MILTER")
check "mil: the milter listens" pf_wait_port "$MPORT" 15
check "mil: its metrics endpoint listens" pf_wait_port "$HPORT2" 15
send_mix
check "mil: 7 messages logged" wait_for 60 lines_at_least 7

# --- spawn(8): one postsift-filter -m smtpd per connection ---------------------
pf_new spw
SPORT=$(free_port) || die "no free port"
ps_conf "${COMMON[@]}"
pfc -e "${NORETRY[@]}"
sink_start
pf_start
check "spw: install spawn" postsift_postfix install spawn -c "$PF_CONF" \
	-p "$PS_CONF" -b "$FILTER" -u "$FILTER_USER" -r "$PF_REINJECT_PORT" -P "$SPORT" -l "$PF_SMTP_PORT"
pf_wait_port "$SPORT" 10
pf_wait_port "$PF_REINJECT_PORT" 10
send_mix
check "spw: 7 messages logged" wait_for 60 lines_at_least 7

# --- what the endpoint says ----------------------------------------------------
# metric NAME{LABELS} - its value in the scrape
metric() { awk -v k="$1" '$1 == k { print $2 }' "$TESTROOT/scrape"; }
# is NAME{LABELS} WANT - the scraped value is WANT
is() { [ "$(metric "$1")" = "$2" ] || { echo "$1 = '$(metric "$1")', want $2"; return 1; }; }

# the idle gauge settles once every session has ended
scrape() { curl -s -f "http://127.0.0.1:$HPORT/metrics" > "$TESTROOT/scrape"; }
idle2() { scrape && is 'postsift_workers{design="smtpd",state="idle"}' 2; }
check "curl: GET /metrics answers 200" scrape
check "curl: Prometheus text format 0.0.4" \
	test "$(curl -s -o /dev/null -w '%{content_type}' "http://127.0.0.1:$HPORT/metrics")" = \
	"text/plain; version=0.0.4; charset=utf-8"
check "curl: HELP and TYPE lines" grep -qx '# TYPE postsift_messages_total counter' "$TESTROOT/scrape"
for d in pipe smtpd milter spawn; do
	check "$d: 3 clean, 2 infected, 1 banned, 1 error" eval "
		is 'postsift_messages_total{design=\"$d\",verdict=\"clean\"}' 3 &&
		is 'postsift_messages_total{design=\"$d\",verdict=\"infected\"}' 2 &&
		is 'postsift_messages_total{design=\"$d\",verdict=\"banned\"}' 1 &&
		is 'postsift_messages_total{design=\"$d\",verdict=\"error\"}' 1 &&
		is 'postsift_messages_total{design=\"$d\",verdict=\"unchecked\"}' 0"
	check "$d: actions pass 3, quarantine 2, reject 1, defer 1" eval "
		is 'postsift_actions_total{design=\"$d\",action=\"pass\"}' 3 &&
		is 'postsift_actions_total{design=\"$d\",action=\"quarantine\"}' 2 &&
		is 'postsift_actions_total{design=\"$d\",action=\"reject\"}' 1 &&
		is 'postsift_actions_total{design=\"$d\",action=\"defer\"}' 1"
done
check "nothing counted for lmtp" eval "
	is 'postsift_messages_total{design=\"lmtp\",verdict=\"clean\"}' 0"
check "tempfails: 4 by the scanner, no other cause" eval "
	is 'postsift_tempfails_total{cause=\"scanner\"}' 4 &&
	is 'postsift_tempfails_total{cause=\"spool\"}' 0 &&
	is 'postsift_tempfails_total{cause=\"downstream\"}' 0 &&
	is 'postsift_tempfails_total{cause=\"other\"}' 0"
check "reinjections: 9 sent (pipe, smtpd, spawn), none refused or deferred" eval "
	is 'postsift_reinjections_total{result=\"sent\"}' 9 &&
	is 'postsift_reinjections_total{result=\"refused\"}' 0 &&
	is 'postsift_reinjections_total{result=\"deferred\"}' 0"
check "scan time: 28 scans, +Inf bucket 28" eval "
	is postsift_scan_duration_seconds_count 28 &&
	is 'postsift_scan_duration_seconds_bucket{le=\"+Inf\"}' 28"
bytes=$(metric 'postsift_message_bytes_total{design="pipe",verdict="clean"}')
check "bytes: the clean pipe messages' size, at least the files" \
	test "${bytes:-0}" -ge "$(cat "$W"/clean?.eml | wc -c)"
check "signatures: the test signatures are counted" test "$(metric postsift_signatures)" -gt 0
check "workers: 2 idle smtpd workers" wait_for 15 idle2
check "workers: 3 milter workers, busy or idle" eval "
	[ \$(( \$(metric 'postsift_workers{design=\"milter\",state=\"idle\"}') +
	      \$(metric 'postsift_workers{design=\"milter\",state=\"busy\"}') )) -eq 3 ]"
check "the milter's endpoint says the same" eval "
	curl -s -f 'http://127.0.0.1:$HPORT2/metrics' | grep -qx 'postsift_messages_total{design=\"milter\",verdict=\"clean\"} 3'"
check "another path: 404" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HPORT/")" = 404
check "POST: 405" test "$(curl -s -o /dev/null -w '%{http_code}' -d x "http://127.0.0.1:$HPORT/metrics")" = 405

# --- -m status -------------------------------------------------------------------
"$FILTER" -m status -c "$ADV_CONF" > "$TESTROOT/status" 2>&1
check "status: exit 0" test $? -eq 0
cat "$TESTROOT/status"
for d in pipe smtpd milter spawn; do
	# clean unchecked rejected banned infected error bytes
	check "status: $d row 3 0 0 1 2 1" grep -Eq "^$d +3 +0 +0 +1 +2 +1 +[0-9]+\$" "$TESTROOT/status"
done
check "status: tempfails" grep -q '^tempfails  scanner=4 spool=0 timeout=0 downstream=0 other=0$' \
	"$TESTROOT/status"
"$FILTER" -m status --json -c "$ADV_CONF" > "$TESTROOT/status.json"
check "status --json: the same counts" python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
for d in ("pipe", "smtpd", "milter", "spawn"):
    m = j["messages"][d]
    assert (m["clean"], m["infected"], m["banned"], m["error"]) == (3, 2, 1, 1), (d, m)
assert j["reinjections"]["sent"] == 9 and j["scans"]["count"] == 28
' "$TESTROOT/status.json"
check "status without a counter file: exit 2" eval "
	! '$FILTER' -m status -o metrics_file=$MDIR/none -c '$ADV_CONF' >/dev/null 2>&1"

# --- the endpoint process: restarted when killed, gone at the drain -------------
# helper PID - the daemon's child with threads (the workers have one)
helper() {
	local p
	for p in $(pgrep -P "$1"); do
		[ "$(awk '/^Threads:/ { print $2 }' "/proc/$p/status" 2>/dev/null)" -gt 1 ] &&
			{ echo "$p"; return 0; }
	done
	return 1
}
h=$(helper "$DAEMON")
check "endpoint: a process of its own, not root" \
	test -n "$h" -a "$(stat -c %U "/proc/${h:-0}")" = "$FILTER_USER"
kill -KILL "${h:-0}" 2>/dev/null
check "endpoint: started again after a kill" wait_for 15 scrape
# (ps_daemon_stop reaps: not in check's subshell)
rc=0
ps_daemon_stop "$DAEMON" 15 || rc=$?
check "daemon: drains with exit 0" test "$rc" -eq 0
check "endpoint: gone with the daemon" wait_for 10 eval "! curl -s -f 'http://127.0.0.1:$HPORT/metrics' >/dev/null"
rc=0
ps_daemon_stop "$MILTER" 15 || rc=$?
check "milter: drains with exit 0" test "$rc" -eq 0

finish
