#!/bin/bash
# t11_testfiles - every file of clamav-testfiles (clam.exe packed, archived,
# embedded in documents and mail), attached as base64, is caught by
# postsift-filter under pipe(8): verdict=infected, quarantined, nothing at
# the sink and no DSN. One is released from the quarantine and arrives
# once, intact, with X-Postsift-Released. A clean message still passes.
# Then the same files through clamd (scanner=clamd:unix:...).

. "$(dirname "$0")/lib.sh"
need_root
need_prog postfix postconf postqueue smtp-sink swaks nc clamd sigtool runuser
getent passwd "$FILTER_USER" >/dev/null || die "no user $FILTER_USER (run scripts/install-deps)"
[ -x "$BUILD_DIR/bin/postsift-filter" ] || die "no $BUILD_DIR/bin/postsift-filter (run make)"

TESTFILES=/usr/share/clamav-testfiles
mapfile -t files < <(find "$TESTFILES" -maxdepth 1 -type f -printf '%f\n' | LC_ALL=C sort)
nfiles=${#files[@]}
[ "$nfiles" -ge 40 ] || die "only $nfiles files in $TESTFILES"
note "$nfiles test files"
# two rounds of 6 checks and one per file; 27 checks between and after them
plan $((2 * (6 + nfiles) + 27))

# reinject ARGS... - postsift-reinject as the filter user, with $PS_CONF
reinject() { runuser -u "$FILTER_USER" -- "$BUILD_DIR/bin/postsift-reinject" -c "$PS_CONF" "$@"; }

# qlist - the quarantine entries, one a line
qlist() { reinject --list | grep -v '^quarantine .* is empty$'; }

# msgid_of FILE - the Message-ID of a message file, without <>
msgid_of() { msg_header "$1" Message-ID | tr -d '<>'; }

# qid_of MSGID - the queue id smtpd gave the message with MSGID
qid_of() {
	sed -n "s/.*: \([0-9A-Za-z]*\): message-id=<$(printf '%s' "$1" | sed 's/[.]/\\./g')>.*/\1/p" \
		"$(pf_log)" | head -n 1
}

# ps_line QID - the postsift log line of queue id QID
ps_line() { grep -E " $1: verdict=" "$PS_LOG" | tail -n 1; }

# wait_count N TIMEOUT CMD... - wait until CMD prints a number >= N
wait_count() {
	local n=$1 end=$((SECONDS + $2))
	shift 2
	while [ "$("$@")" -lt "$n" ]; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.3
	done
}
ps_verdicts() { grep -c ': verdict=.*, from=<' "$PS_LOG"; }
# sink_deliveries - maillog's count of deliveries to the sink
sink_deliveries() { grep -c "relay=127.0.0.1\[127.0.0.1\]:$SINK_PORT,.*status=sent" "$(pf_log)"; }

# run_round TAG LABEL - send every test file (one message each), check
# each is infected and quarantined, the sink stays empty, no bounce.
# Sets qids[FILE] (the smtpd queue id of each).
declare -A qids
run_round() {
	local tag=$1 label=$2 f eml before line n sent0
	before=$(ps_verdicts)
	sent0=$(sink_deliveries)
	for f in "${files[@]}"; do
		eml=$PF_DIR/$tag.$f.eml
		mk_msg_attach "$eml" "$TESTFILES/$f"
		send_msg "$eml" sender@example.com "rcpt-$tag@example.net" ||
			fail "$label: submit $f" "swaks failed"
	done
	check "$label: $nfiles verdict lines logged" wait_count $((before + nfiles)) 90 ps_verdicts
	check "$label: queue drains" wait_queue_empty 30
	for f in "${files[@]}"; do
		eml=$PF_DIR/$tag.$f.eml
		qids[$f]=$(qid_of "$(msgid_of "$eml")")
		if [ -z "${qids[$f]}" ]; then
			fail "$label: $f" "no queue id in maillog"
			continue
		fi
		line=$(ps_line "${qids[$f]}")
		case $line in
		*": verdict=infected, action=quarantine, status=quarantined ("*)
			if [ "$tag" = clamd ] && ! printf '%s\n' "$line" | grep -q 'UNOFFICIAL'; then
				fail "$label: $f" "no clamd (UNOFFICIAL) signature name: $line"
			else
				ok "$label: $f infected, quarantined"
			fi ;;
		*)
			fail "$label: $f" "${line:-no postsift log line for ${qids[$f]}}" ;;
		esac
	done
	n=$(for f in "${files[@]}"; do echo "${qids[$f]}"; done | sed '/^$/d' | sort -u | wc -l)
	check "$label: $nfiles distinct queue ids" test "$n" -eq "$nfiles"
	sleep 1
	check "$label: nothing at the sink (no mail, no DSN)" test "$(sink_count)" -eq 0
	check "$label: nothing bounced" eval "! grep -q 'status=bounced' '$(pf_log)'"
	check "$label: no delivery to the sink in maillog" test "$(sink_deliveries)" -eq "$sent0"
}

pf_new tf
ps_conf
ps_install || die "postsift-postfix install failed: $(tail -n 5 "$PF_DIR/install.log")"
sink_start
pf_start

t0=$SECONDS
run_round inproc "in-process"
check "in-process: quarantine lists $nfiles entries" test "$(qlist | wc -l)" -eq "$nfiles"
check "in-process: every entry is infected" test "$(qlist | grep -c ' verdict=infected ')" -eq "$nfiles"
note "in-process round: $((SECONDS - t0))s"

# A clean message passes the same filter.
mk_msg "$PF_DIR/clean.eml" "clean between the rounds"
check "clean: submission" send_msg "$PF_DIR/clean.eml" sender@example.com clean@example.net
check "clean: arrives" sink_wait 1 30
check "clean: queue empty" wait_queue_empty 20
m=$(sink_messages | head -n 1)
check "clean: recipient" test "$(sink_rcpts "$m")" = clean@example.net
check "clean: X-Virus-Scanned added" eval "sink_body '$m' | msg_header /dev/stdin X-Virus-Scanned | grep -q '^postsift '"
check "clean: verdict=clean logged" \
	eval "ps_line '$(qid_of "$(msgid_of "$PF_DIR/clean.eml")")' | grep -q 'verdict=clean, action=pass, .*status=sent'"
check "clean: body identical" \
	cmp -s <(msg_body "$PF_DIR/clean.eml") <(sink_body "$m" | msg_body /dev/stdin)
sink_clear

# Release clam.exe's message.
line=$(ps_line "${qids[clam.exe]}")
rid=$(printf '%s\n' "$line" | sed -n 's/.*status=quarantined (\([A-Za-z0-9]*\)).*/\1/p')
check "release: quarantine id of clam.exe in the log" test -n "$rid"
check "release: listed" eval "qlist | grep -q '^$rid from=<sender@example.com> to=<rcpt-inproc@example.net> verdict=infected'"
sent0=$(sink_deliveries)
out=$(reinject --release "$rid" 2>&1)
rc=$?
check "release: exit 0 ($out)" test "$rc" -eq 0
check "release: arrives" sink_wait 1 30
check "release: queue empty" wait_queue_empty 20
sleep 1
check "release: arrives exactly once" test "$(sink_count)" -eq 1
check "release: one delivery in maillog" test "$(sink_deliveries)" -eq $((sent0 + 1))
m=$(sink_messages | head -n 1)
check "release: original recipient" test "$(sink_rcpts "$m")" = rcpt-inproc@example.net
check "release: original sender" test "$(sink_sender "$m")" = sender@example.com
check "release: X-Postsift-Released header" \
	eval "sink_body '$m' | msg_header /dev/stdin X-Postsift-Released | grep -q '^$rid from quarantine (infected'"
check "release: attachment base64 identical" \
	cmp -s <(sed -n '/^Content-Disposition: attachment/,/^--=_postsift/p' "$PF_DIR/inproc.clam.exe.eml") \
	<(sink_body "$m" | sed -n '/^Content-Disposition: attachment/,/^--=_postsift/p')
check "release: attachment decodes to clam.exe" \
	cmp -s "$TESTFILES/clam.exe" <(sink_body "$m" | sed -n '/^Content-Disposition: attachment/,/^--=_postsift/p' |
		sed '1,/^$/d; /^--=_postsift/d' | base64 -d)
check "release: left the quarantine" eval "! qlist | grep -q '^$rid '"
check "release: $((nfiles - 1)) entries left" test "$(qlist | wc -l)" -eq $((nfiles - 1))
check "release: second release fails, not sent again" eval "! reinject --release '$rid' >/dev/null 2>&1"
sleep 1
check "release: still exactly once" test "$(sink_count)" -eq 1
sink_clear

# The same files through clamd.
t0=$SECONDS
clamd_start
ps_conf "scanner=clamd:unix:$CLAMD_SOCKET"
run_round clamd "clamd"
check "clamd: quarantine lists $((2 * nfiles - 1)) entries" test "$(qlist | wc -l)" -eq $((2 * nfiles - 1))
check "clamd: clamd did the scanning" grep -q 'INSTREAM\|clam.exe' "$TESTROOT/clamd/clamd.log"
note "clamd round: $((SECONDS - t0))s"

finish
