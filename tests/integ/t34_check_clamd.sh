#!/bin/bash
# t34_check_clamd - "postsift-postfix check" and the clamd that postsift's
# scanner setting names: a private clamd (tests/integ/lib.sh clamd_start)
# with StreamMaxLength 1M and no Alert* lines, postsift in the simple
# design with scanner = clamd:unix:SOCKET. Without --clamd-conf the
# system's clamd.conf (another socket) is not taken for it; with
# --clamd-conf the three clamd findings are reported, and the harm shows:
# a message with a 2 MB attachment is deferred ("INSTREAM size limit
# exceeded"), while a small one is delivered. With the README's lines in
# clamd.conf check is clean and the deferred message is delivered. Then
# Postfix's message_size_limit above postsift's: size-limits only.

. "$(dirname "$0")/checklib.sh"
need_prog clamd sigtool
plan 13

pf_new cc
mk_msg "$TESTROOT/clean.eml" "postsift check clamd"
head -c 2000000 /dev/urandom > "$TESTROOT/big.bin"
mk_msg_attach "$TESTROOT/big.eml" "$TESTROOT/big.bin" big.bin
sink_start
clamd_start
CCONF=$TESTROOT/clamd/clamd.conf

# clamd_set NAME VALUE... - set options (NAME VALUE pairs) in the private
# clamd.conf and restart clamd with it
clamd_set() {
	while [ $# -ge 2 ]; do
		sed -i "/^$1 /d" "$CCONF"
		printf '%s %s\n' "$1" "$2" >> "$CCONF"
		shift 2
	done
	clamd_stop
	clamd -c "$CCONF" </dev/null >>"$TESTROOT/clamd/clamd.out" 2>&1 &
	echo $! > "$TESTROOT/clamd/clamd.ppid"
	wait_for 60 eval '[ "$(clamd_ping)" = PONG ]'
}
# cc_check ARGS... - check with ARGS; CRC, IDS as run_check sets them
cc_check() {
	CRC=0
	"$PP" check -c "$PF_CONF" -p "$PS_CONF" "$@" > "$PF_DIR/check.out" 2>&1 || CRC=$?
	IDS=$(sed -n 's/^postsift-postfix: \([a-z][a-z-]*\): .* -- .*; fix: .*/\1/p' "$PF_DIR/check.out" | sort -u | tr '\n' ' ')
	IDS=${IDS% }
}
# cc_is STATUS IDS NAME - the last cc_check exited STATUS with IDS
cc_is() {
	if [ "$CRC" -eq "$1" ] && [ "$IDS" = "$2" ]; then
		ok "$3"
	else
		fail "$3" "exit $CRC, findings '$IDS'"
		sed 's/^/    /' "$PF_DIR/check.out"
	fi
}

check "clamd with StreamMaxLength 1M answers" clamd_set StreamMaxLength 1M
ps_conf "scanner=clamd:unix:$CLAMD_SOCKET"
pf_start
reinstall simple

# another clamd's clamd.conf (the system's, if any) is not this one's
cc_check -v
cc_is 0 "" "without --clamd-conf: no clamd.conf of this socket, nothing reported"
check "without --clamd-conf: -v says the clamd is not checked" \
	grep -q "scanner clamd unix:$CLAMD_SOCKET: .*not checked" "$PF_DIR/check.out"

cc_check --clamd-conf "$CCONF"
cc_is 1 "clamd-alert-encrypted clamd-alert-exceeds-max clamd-stream-max-length" \
	"--clamd-conf: StreamMaxLength 1M and the Alert* defaults reported"
check "the finding names StreamMaxLength 1M and message_size_limit" \
	grep -q "clamd-stream-max-length: StreamMaxLength 1M of clamd unix:$CLAMD_SOCKET is below postsift's message_size_limit = 52428800" "$PF_DIR/check.out"

# the harm: a 2 MB part is a scan error, deferred; a small message passes
check "small message: submitted" send_msg "$TESTROOT/clean.eml" sender@example.com rcpt@example.net
check "small message: delivered" sink_wait 1 30
sink_clear
check "2 MB attachment: submitted" send_msg "$TESTROOT/big.eml" sender@example.com rcpt@example.net
check "2 MB attachment: postsift logs INSTREAM size limit exceeded" \
	wait_for 40 grep -q 'INSTREAM size limit exceeded' "$PS_LOG"
check "2 MB attachment: not delivered, deferred" \
	eval '[ "$(sink_count)" -eq 0 ] && postqueue -c "$PF_CONF" -j | grep -q "\"queue_name\": *\"deferred\""'

# the README's clamd.conf lines: clean, and the deferred message passes
clamd_set StreamMaxLength 50M MaxFileSize 50M MaxScanSize 200M AlertEncrypted yes \
	AlertExceedsMax yes || die "clamd does not restart"
cc_check --clamd-conf "$CCONF"
cc_is 0 "" "the README's clamd.conf lines: check is clean"
pf_flush
check "the deferred 2 MB message is delivered after the fix" sink_wait 1 60

# Postfix accepts more than postsift scans
pfc -e message_size_limit=104857600; reload
cc_check --clamd-conf "$CCONF"
cc_is 1 "size-limits" "Postfix's message_size_limit 100M, postsift's 50M: size-limits only"
pfc -X message_size_limit
"$PP" remove -c "$PF_CONF" >>"$PF_DIR/install.log" 2>&1
finish
