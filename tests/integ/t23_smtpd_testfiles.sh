#!/bin/bash
# t23_smtpd_testfiles - every file of clamav-testfiles, attached as base64,
# is caught by postsift-filter -m smtpd and never delivered, in each of
# the three ways it is wired, and a clean control message is delivered:
#   daemon        "install advanced", the daemon started here, in-process
#                 libclamav (test signatures): quarantined (default
#                 virus_action), one verdict line each, nothing at the
#                 sink, no bounce;
#   spawn         "install spawn", clamd (scanner = clamd:unix:...):
#                 the same, with clamd's signature names;
#   before-queue  "install before-queue -s", in-process libclamav,
#                 virus_action = reject: each refused with 5.7.1 at the
#                 end of data, nothing queued, nothing quarantined.
# The messages of a round go in one SMTP session (a small perl client
# that records the reply to each end of data; before the queue sessions
# of 9, below Postfix's smtpd_soft_error_limit), then the test waits once.

. "$(dirname "$0")/lib.sh"
need_root
need_prog postfix postconf smtp-sink nc perl clamd sigtool runuser
getent passwd "$FILTER_USER" >/dev/null || die "no user $FILTER_USER (run scripts/install-deps)"
FILTER=$BUILD_DIR/bin/postsift-filter
[ -x "$FILTER" ] || die "no $FILTER (run make)"
[ -x "$BUILD_DIR/bin/postsift-reinject" ] || die "no $BUILD_DIR/bin/postsift-reinject (run make)"

TESTFILES=/usr/share/clamav-testfiles
mapfile -t files < <(find "$TESTFILES" -maxdepth 1 -type f -printf '%f\n' | LC_ALL=C sort)
nfiles=${#files[@]}
[ "$nfiles" -ge 40 ] || die "only $nfiles files in $TESTFILES"
note "$nfiles test files"
# two rounds after the queue (11 checks and one per file), before the
# queue 11 and one per file; 4 for the set-ups
plan $((2 * (11 + nfiles) + 11 + nfiles + 4))

testroot_init


# reinject ARGS... - postsift-reinject as the filter user, with $PS_CONF
reinject() { runuser -u "$FILTER_USER" -- "$BUILD_DIR/bin/postsift-reinject" -c "$PS_CONF" "$@"; }
# qlist - the quarantine entries, one a line
qlist() { reinject --list | grep -v '^quarantine .* is empty$'; }
# ps_verdicts - how many verdict lines the filter logged
ps_verdicts() { grep -c ': verdict=' "$PS_LOG"; }
# queued - how many messages qmgr has seen (a queue id that smtpd assigns
# at MAIL and drops at RSET, as before the queue, is not a queued message)
queued() { grep -cE 'qmgr\[[0-9]+\]: [0-9A-F]+: from=' "$(pf_log)"; }
# wait_count N TIMEOUT CMD... - wait until CMD prints a number >= N
wait_count() {
	local n=$1 end=$((SECONDS + $2))
	shift 2
	while [ "$("$@")" -lt "$n" ]; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.3
	done
}
# reply_of EML - the recorded final reply for EML
reply_of() { awk -F '\t' -v f="$1" '$1 == f { print $2 }' "$PF_DIR/replies"; }
# qid_of EML - the queue id in the reply for EML ("queued as ID")
qid_of() { reply_of "$1" | sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p'; }
# ps_line_qid QID - the filter's log line for the upstream queue id QID
ps_line_qid() { grep -E "[] :]$1: verdict=.*, client=" "$PS_LOG" | tail -n 1; }

# make_messages TAG - one message per test file, and a clean control
# message; the list of files in $PF_DIR/list (clean one last)
make_messages() {
	local f
	: > "$PF_DIR/list"
	for f in "${files[@]}"; do
		mk_msg_attach "$PF_DIR/$1.$f.eml" "$TESTFILES/$f"
		echo "$PF_DIR/$1.$f.eml" >> "$PF_DIR/list"
	done
	mk_msg "$PF_DIR/$1.clean.eml" "clean control message $1"
}
# submit TAG [BATCH] - all of them, the clean one last, to the public
# smtpd: in one session, or in sessions of BATCH messages
submit() {
	local l i n=${2:-0} rc=0
	mapfile -t l < "$PF_DIR/list"
	l+=("$PF_DIR/$1.clean.eml")
	[ "$n" -gt 0 ] || n=${#l[@]}
	: > "$PF_DIR/replies"
	for ((i = 0; i < ${#l[@]}; i += n)); do
		perl "$TOP/tests/integ/smtpsend.pl" "$PF_SMTP_PORT" sender@example.com "rcpt-$1@example.net" \
			"$PF_DIR/replies" "${l[@]:i:n}" >>"$PF_DIR/smtpsend.log" 2>&1 || rc=1
	done
	return $rc
}
# sink_has_only_clean TAG - the sink holds one message, the clean one
sink_has_only_clean() {
	local m
	[ "$(sink_count)" -eq 1 ] || { echo "sink holds $(sink_count) messages"; return 1; }
	m=$(sink_messages)
	[ -n "$(sink_sender "$m")" ] || { echo "the sink holds a DSN"; return 1; }
	sink_body "$m" | grep -q "^Subject: clean control message $1\$" || { echo "not the clean message"; return 1; }
	sink_body "$m" | grep -q '^X-Virus-Scanned: postsift ' || { echo "no X-Virus-Scanned"; return 1; }
	cmp -s <(msg_body "$PF_DIR/$1.clean.eml") <(sink_body "$m" | msg_body /dev/stdin) ||
		{ echo "clean body changed"; return 1; }
}

# after_queue_round TAG LABEL - after the queue: every test file
# accepted by Postfix, then infected and quarantined by the filter, the
# clean message delivered, nothing else at the sink
after_queue_round() {
	local t=$1 L=$2 f eml qid line n0 t0=$SECONDS
	make_messages "$t"
	n0=$(ps_verdicts)
	check "$L: $((nfiles + 1)) messages submitted in one session" submit "$t"
	check "$L: Postfix accepted all $((nfiles + 1))" \
		test "$(grep -c "	250 .*queued as" "$PF_DIR/replies")" -eq $((nfiles + 1))
	check "$L: $((nfiles + 1)) verdict lines logged" wait_count $((n0 + nfiles + 1)) 120 ps_verdicts
	check "$L: the clean message arrives" sink_wait 1 30
	check "$L: queue drains" wait_queue_empty 30
	note "$L: all scanned after $((SECONDS - t0))s"
	sleep 1
	for f in "${files[@]}"; do
		eml=$PF_DIR/$t.$f.eml
		qid=$(qid_of "$eml")
		if [ -z "$qid" ]; then
			fail "$L: $f" "not accepted: $(reply_of "$eml")"
			continue
		fi
		line=$(ps_line_qid "$qid")
		case $line in
		*": verdict=infected, action=quarantine, status=quarantined ("*)
			ok "$L: $f infected, quarantined" ;;
		*)
			fail "$L: $f" "${line:-no filter log line for queue id $qid}" ;;
		esac
	done
	check "$L: quarantine holds $nfiles entries" test "$(qlist | wc -l)" -eq "$nfiles"
	check "$L: every entry is infected" test "$(qlist | grep -c ' verdict=infected ')" -eq "$nfiles"
	check "$L: the clean message passed (verdict=clean, status=sent)" \
		eval "ps_line_qid '$(qid_of "$PF_DIR/$t.clean.eml")' | grep -q 'verdict=clean, action=pass, .*status=sent'"
	check "$L: nothing at the sink but the clean message, no DSN" sink_has_only_clean "$t"
	check "$L: nothing bounced" eval "! grep -q 'status=bounced' '$(pf_log)'"
	check "$L: one delivery to the sink in maillog" \
		test "$(grep -c "relay=127.0.0.1\[127.0.0.1\]:$SINK_PORT,.*status=sent" "$(pf_log)")" -eq 1
}

# ---------------------------------------------------------------- daemon
t0=$SECONDS
pf_new dmn
sink_start
ps_advanced_daemon daemon 4
after_queue_round dmn "daemon (libclamav)"
ps_daemon_stop "$DAEMON"
note "daemon round: $((SECONDS - t0))s"

# ---------------------------------------------------------------- spawn, clamd
t0=$SECONDS
clamd_start
pf_new spn
sink_start
FPORT=$(free_port)
ps_conf "scanner=clamd:unix:$CLAMD_SOCKET"
pf_start
check "spawn: install spawn" "$PP" install spawn -c "$PF_CONF" -u "$FILTER_USER" -p "$PS_CONF" \
	-b "$FILTER" -r "$PF_REINJECT_PORT" -P "$FPORT" -l "$PF_SMTP_PORT" -m 4
pf_wait_port "$FPORT" 10
pf_wait_port "$PF_REINJECT_PORT" 10
after_queue_round spn "spawn (clamd)"
check "spawn (clamd): clamd found all $nfiles" test "$(grep -c ' FOUND' "$TESTROOT/clamd/clamd.log")" -ge "$nfiles"
note "spawn round: $((SECONDS - t0))s"

# ---------------------------------------------------------------- before-queue
t0=$SECONDS
pf_new bq
sink_start
FPORT=$(free_port)
ps_conf virus_action=reject
pf_start
check "before-queue: install before-queue -s" "$PP" install before-queue -s -c "$PF_CONF" \
	-u "$FILTER_USER" -p "$PS_CONF" -b "$FILTER" -r "$PF_REINJECT_PORT" -P "$FPORT" \
	-l "$PF_SMTP_PORT" -m 4
pf_wait_port "$FPORT" 10
pf_wait_port "$PF_REINJECT_PORT" 10
make_messages bq
# Postfix's smtpd slows down after smtpd_soft_error_limit (10) refusals
# in a session and disconnects at smtpd_hard_error_limit (20): sessions
# of 9 messages, as a client that reconnects.
check "before-queue: $((nfiles + 1)) messages submitted in sessions of 9" submit bq 9
for f in "${files[@]}"; do
	r=$(reply_of "$PF_DIR/bq.$f.eml")
	case $r in
	5[0-9][0-9]" 5.7.1 "*) ok "before-queue: $f refused with 5.7.1" ;;
	*) fail "before-queue: $f" "reply: ${r:-none}" ;;
	esac
done
check "before-queue: the clean message accepted" eval "reply_of '$PF_DIR/bq.clean.eml' | grep -q '^250 .*queued as'"
check "before-queue: the clean message arrives" sink_wait 1 30
check "before-queue: queue empty" wait_queue_empty 30
check "before-queue: $((nfiles + 1)) verdict lines logged" wait_count $((nfiles + 1)) 30 ps_verdicts
check "before-queue: $nfiles infected, rejected in the filter log" \
	test "$(grep -c ': verdict=infected, action=reject, status=rejected ' "$PS_LOG")" -eq "$nfiles"
sleep 1
check "before-queue: only the clean message queued" test "$(queued)" -eq 1
check "before-queue: nothing at the sink but the clean message, no DSN" sink_has_only_clean bq
check "before-queue: nothing quarantined" test "$(qlist | wc -l)" -eq 0
check "before-queue: nothing bounced" eval "! grep -q 'status=bounced' '$(pf_log)'"
note "before-queue round: $((SECONDS - t0))s"

finish
