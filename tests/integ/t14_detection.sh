#!/bin/bash
# t14_detection - what an attacker sends first, through a real Postfix in
# the simple design (pipe(8)) and before the queue (smtpd_proxy_filter,
# the SMTP engine), with the default banned rules: a Windows PE under a
# harmless name or none is banned by its true type; EICAR and the ClamAV
# test file uuencoded inside a text body are found; an executable inside
# a zip is banned by its name, by its true type, and inside a zip inside
# a zip; a corrupt archive and one over archive_max_members are
# unchecked (delivered tagged), never clean; a harmless zip is clean.
# The messages come from tests/integ/mkdetect.py, which also says what
# each must become.
#
# Pipe mode: banned -> reject (a 5.7.1 DSN, nothing delivered), infected
# -> quarantine (nothing delivered, one file in quarantine_dir),
# unchecked -> tag (delivered with X-Virus-Status: Unchecked), clean ->
# delivered without X-Virus-Status. Before the queue, with virus_action
# = reject: banned and infected are refused with 5.7.1 at end of data and
# nothing is queued; the others are delivered as above.

. "$(dirname "$0")/lib.sh"
need_root
need_prog postfix postconf smtp-sink swaks python3
getent passwd "$FILTER_USER" >/dev/null || die "no user $FILTER_USER (run scripts/install-deps)"
FILTER=$BUILD_DIR/bin/postsift-filter
[ -x "$FILTER" ] || die "no $FILTER (run make)"
CLAM_EXE=/usr/share/clamav-testfiles/clam.exe
[ -r "$CLAM_EXE" ] || die "no $CLAM_EXE (package clamav-testfiles)"

testroot_init
python3 "$TOP/tests/data/samples/mksamples" "$TESTROOT/samples" >/dev/null ||
	die "mksamples failed"
PE=$TESTROOT/samples/pe32-console.exe
[ -s "$PE" ] || die "mksamples made no $PE"
python3 "$TOP/tests/integ/mkdetect.py" "$TESTROOT/msgs" "$PE" "$CLAM_EXE" > "$TESTROOT/cases" ||
	die "mkdetect.py failed"
mapfile -t cases < "$TESTROOT/cases"
ncases=${#cases[@]}
[ "$ncases" -ge 10 ] || die "mkdetect.py made only $ncases cases"
note "$ncases cases: ${cases[*]}"

# Per case: 2 checks in each design (verdict, outcome) and one for the
# submission in pipe mode; plus 4 fixed checks in pipe mode and 5 before
# the queue.
plan $((ncases * 5 + 9))

# delivered_to RCPT - a message (not a DSN) for RCPT reached the sink
delivered_to() {
	local f
	for f in $(sink_messages); do
		[ -n "$(sink_sender "$f")" ] || continue
		sink_rcpts "$f" | grep -qxF "$1" && { echo "$f"; return 0; }
	done
	return 1
}
# dsn_for RCPT CODE - the sink holds a DSN (null sender) about RCPT with CODE
dsn_for() {
	local f
	for f in $(sink_messages); do
		[ -z "$(sink_sender "$f")" ] || continue
		grep -q "$1" "$f" && grep -q "$2" "$f" && return 0
	done
	return 1
}
# verdict_of CASE - the verdict of the filter's log line for CASE's recipient
verdict_of() {
	sed -n "s/.*: verdict=\([a-z]*\), .*, to=<$1@example\.net>$/\1/p" "$PS_LOG" | tail -n 1
}
# logged_all - every case has its log line
logged_all() {
	local c
	for c in "${cases[@]}"; do
		[ -n "$(verdict_of "${c% *}")" ] || return 1
	done
}
# tagged_unchecked FILE - the delivered message says Unchecked
tagged_unchecked() { sink_body "$1" | msg_header /dev/stdin X-Virus-Status | grep -q '^Unchecked'; }
# untagged FILE - the delivered message carries X-Virus-Scanned, no status
untagged() {
	sink_body "$1" | grep -q '^X-Virus-Scanned: postsift ' &&
		[ -z "$(sink_body "$1" | msg_header /dev/stdin X-Virus-Status)" ]
}

# ---------------------------------------------------------------- pipe mode
pf_new simple
ps_conf archive_max_members=20
check "pipe: install simple" ps_install
sink_start
pf_start
for c in "${cases[@]}"; do
	case=${c% *}
	check "pipe $case: submitted" send_msg "$TESTROOT/msgs/$case.eml" sender@example.com "$case@example.net"
done
check "pipe: every case scanned" wait_for 90 logged_all
check "pipe: queue empty" wait_queue_empty 60
for c in "${cases[@]}"; do
	case=${c% *} want=${c#* }
	got=$(verdict_of "$case")
	check "pipe $case: verdict $want" test "$got" = "$want"
	case $want in
	banned)
		check "pipe $case: 5.7.1 DSN, not delivered" \
			eval "dsn_for '$case@example.net' 5.7.1 && ! delivered_to '$case@example.net' >/dev/null" ;;
	infected)
		check "pipe $case: quarantined, not delivered" \
			eval "grep -rqsF '$case@example.net' '$PF_DIR/ps/quarantine' && ! delivered_to '$case@example.net' >/dev/null" ;;
	unchecked)
		check "pipe $case: delivered tagged Unchecked" eval "f=\$(delivered_to '$case@example.net') && tagged_unchecked \"\$f\"" ;;
	*)
		check "pipe $case: delivered untagged" eval "f=\$(delivered_to '$case@example.net') && untagged \"\$f\"" ;;
	esac
done
check "pipe: remove" "$PP" remove -c "$PF_CONF"

# ---------------------------------------------------------------- before the queue
pf_new bq
sink_start
ps_conf archive_max_members=20 virus_action=reject
pf_start
FPORT=$(free_port)
check "before-queue: install -s" "$PP" install before-queue -s -c "$PF_CONF" -u "$FILTER_USER" \
	-p "$PS_CONF" -b "$FILTER" -r "$PF_REINJECT_PORT" -P "$FPORT" -l "$PF_SMTP_PORT" -m 4
pf_wait_port "$FPORT" 10
pf_wait_port "$PF_REINJECT_PORT" 10
for c in "${cases[@]}"; do
	case=${c% *} want=${c#* }
	: > "$PF_DIR/swaks.log"
	rc=0
	send_msg "$TESTROOT/msgs/$case.eml" sender@example.com "$case@example.net" || rc=$?
	got=$(verdict_of "$case")
	check "before-queue $case: verdict $want" test "$got" = "$want"
	case $want in
	banned | infected)
		check "before-queue $case: refused with 5.7.1 at end of data" \
			eval "[ $rc -ne 0 ] && grep -q '<\*\* *5[0-9][0-9] 5\.7\.1' '$PF_DIR/swaks.log'" ;;
	*)
		check "before-queue $case: accepted" test "$rc" -eq 0 ;;
	esac
done
check "before-queue: queue empty" wait_queue_empty 60
sink_wait "$(grep -c -E ' (unchecked|clean)$' "$TESTROOT/cases")" 30
check "before-queue: only unchecked and clean cases delivered, tagged as they should be" eval '
	for c in "${cases[@]}"; do
		case=${c% *} want=${c#* }
		f=$(delivered_to "$case@example.net") || f=
		case $want in
		unchecked) [ -n "$f" ] && tagged_unchecked "$f" || { echo "$case: not delivered tagged"; exit 1; } ;;
		clean) [ -n "$f" ] && untagged "$f" || { echo "$case: not delivered clean"; exit 1; } ;;
		*) [ -z "$f" ] || { echo "$case: delivered"; exit 1; } ;;
		esac
	done'
check "before-queue: no DSN at all" eval '! dsn_for example.net 5.'
check "before-queue: remove" "$PP" remove -c "$PF_CONF"

finish
