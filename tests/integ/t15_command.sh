#!/bin/bash
# t15_command - a command scanner (postprox's contract) beside in-process
# ClamAV, "scanner = clamav, command:.../cmdscan.sh", through a real
# Postfix: in the simple design (pipe(8)) and in the advanced design with
# the daemon. tests/integ/cmdscan.sh rejects mail that holds the word
# given in command_arguments (exit 1, "550 5.7.1 ..." on stderr), fails
# (exit 2) on CMDSCAN-ERROR and sleeps past command_timeout on
# CMDSCAN-SLOW.
#
# Pipe mode: clean mail is delivered with both scanners in X-Virus-Scanned;
# the word bounces (exit 69) with the command's reason in the DSN and the
# log; exit 2 defers (exit 75): the message stays queued, nothing is
# delivered or bounced. Daemon: the same clean and rejected cases (the
# scan transport logs our 5xx reply with the reason; a client speaking to
# the daemon directly gets it at end of data), and a command past its
# deadline answers 451: Postfix keeps the message, the command is gone.

. "$(dirname "$0")/lib.sh"
need_root
plan 39
need_prog postfix postconf smtp-sink swaks
getent passwd "$FILTER_USER" >/dev/null || die "no user $FILTER_USER (run scripts/install-deps)"
FILTER=$BUILD_DIR/bin/postsift-filter
[ -x "$FILTER" ] || die "no $FILTER (run make)"
SCAN=$TOP/tests/integ/cmdscan.sh
[ -x "$SCAN" ] || die "no executable $SCAN"
WORD=xyzzy

# dsn_for SENDER - the first sink file addressed to SENDER that is a DSN
dsn_for() {
	local f
	for f in $(sink_messages); do
		[ "$(sink_rcpts "$f")" = "$1" ] && grep -qi '^Content-Type: multipart/report' "$f" &&
			{ echo "$f"; return 0; }
	done
	return 1
}
# delivered_to RCPT - a message (not a DSN) for RCPT reached the sink
delivered_to() {
	local f
	for f in $(sink_messages); do
		[ -n "$(sink_sender "$f")" ] || continue
		sink_rcpts "$f" | grep -qxF "$1" && return 0
	done
	return 1
}
# mk_with FILE SUBJECT LINE - a plain message with LINE in its body
mk_with() {
	mk_msg "$1" "$2"
	printf '%s\n' "$3" >> "$1"
}
# unfolded_grep TEXT FILE - FILE holds TEXT once folded lines are joined
# (a DSN wraps a long Diagnostic-Code)
unfolded_grep() { sed -e ':a' -e 'N' -e '$!ba' -e 's/\n[ \t]\+/ /g' "$2" | grep -qF -- "$1"; }
# no_cmd_dirs - no command run directory is left in the spool
no_cmd_dirs() {
	local left
	left=$(find "$PF_DIR/ps/spool" -maxdepth 1 -name 'cmdtmp-*' 2>/dev/null)
	[ -z "$left" ] || { echo "left: $left"; return 1; }
}
# no_cmdscan - no cmdscan.sh of this test's runs is still running
no_cmdscan() { wait_for 10 eval "! pgrep -u '$FILTER_USER' -f '$SCAN' >/dev/null"; }

# ---------------------------------------------------------------- pipe mode
pf_new cs
ps_conf "scanner=clamav, command:$SCAN" "command_arguments=$WORD"
check "pipe: install simple" ps_install
sink_start
pf_start

mk_msg "$TESTROOT/clean.eml" "clean for the command"
check "pipe clean: submitted" send_msg "$TESTROOT/clean.eml" sender@example.com rcpt@example.net
check "pipe clean: delivered" sink_wait 1 30
m=$(sink_messages | head -n 1)
check "pipe clean: X-Virus-Scanned names ClamAV and the command" \
	grep -q '^X-Virus-Scanned: postsift [0-9.]* (ClamAV .*, command cmdscan.sh) on ' "${m:-/dev/null}"
check "pipe clean: logged clean, sent" \
	grep -q 'verdict=clean, action=pass, .*status=sent' "$PS_LOG"
wait_queue_empty 20
sink_clear

mk_with "$TESTROOT/word.eml" "word" "This one says XYZZY, the magic word."
check "pipe word: submitted" send_msg "$TESTROOT/word.eml" wsender@example.com wrcpt@example.net
check "pipe word: a DSN reaches the sender" sink_wait 1 30
check "pipe word: queue empty" wait_queue_empty 20
sleep 1
dsn=$(dsn_for wsender@example.com)
check "pipe word: DSN status 5.7.0, the command's own" grep -q '^Status: 5\.7\.0' "${dsn:-/dev/null}"
check "pipe word: the DSN gives the command's reason" \
	unfolded_grep "message contains the word $WORD" "${dsn:-/dev/null}"
check "pipe word: never delivered to the recipient" eval "! delivered_to wrcpt@example.net"
check "pipe word: log line" grep -q "verdict=rejected, action=reject, status=bounced (.*), detail=\"message contains the word $WORD (command cmdscan.sh)\"" "$PS_LOG"
check "pipe word: pipe bounced it (exit 69) with the reason" \
	pf_log_wait "to=<wrcpt@example.net>, relay=postsift, .*dsn=5\.7\.0, status=bounced \(message content rejected: rejected: message contains the word $WORD" 5
sink_clear

mk_with "$TESTROOT/err.eml" "command failure" "CMDSCAN-ERROR"
check "pipe error: submitted" send_msg "$TESTROOT/err.eml" esender@example.com ercpt@example.net
check "pipe error: deferred (exit 75)" \
	pf_log_wait "to=<ercpt@example.net>, relay=postsift, .*status=deferred .*exited with status 2" 30
check "pipe error: still in the queue" test "$(pf_queue_count)" -ge 1
sleep 1
check "pipe error: nothing delivered, no bounce" test "$(sink_count)" -eq 0
check "pipe error: logged as an error, deferred" \
	grep -q 'verdict=error, action=defer, status=deferred (.*), detail="scanner error: command cmdscan.sh: exited with status 2.*, from=<esender@example.com>, ' "$PS_LOG"
check "pipe: no command directory left" no_cmd_dirs

# ---------------------------------------------------------------- daemon
pf_new cd
sink_start
FPORT=$(free_port) || die "no free port"
ps_conf "smtpd_listen=127.0.0.1:$FPORT" "smtpd_workers=2" "smtpd_pid_file=$PF_DIR/ps/daemon.pid" \
	"scanner=clamav, command:$SCAN" "command_arguments=$WORD" "command_timeout=3s"
pf_start
check "daemon: install advanced" postsift_postfix install advanced -c "$PF_CONF" \
	-p "$PS_CONF" -b "$FILTER" -r "$PF_REINJECT_PORT" -P "$FPORT" -l "$PF_SMTP_PORT"
ps_daemon_start daemon
DAEMON=$DPID
require "daemon: listens" pf_wait_port "$FPORT" 15
pf_wait_port "$PF_REINJECT_PORT" 10

check "daemon clean: submitted" send_msg "$TESTROOT/clean.eml" sender@example.com rcpt@example.net
check "daemon clean: delivered" sink_wait 1 40
m=$(sink_messages | head -n 1)
check "daemon clean: X-Virus-Scanned names the command" \
	grep -q '^X-Virus-Scanned: postsift [0-9.]* (ClamAV .*, command cmdscan.sh) on ' "${m:-/dev/null}"
wait_queue_empty 20
sink_clear

check "daemon word: submitted" send_msg "$TESTROOT/word.eml" wsender@example.com wrcpt@example.net
check "daemon word: a DSN reaches the sender" sink_wait 1 40
sleep 1
dsn=$(dsn_for wsender@example.com)
check "daemon word: the DSN gives the reason" \
	unfolded_grep "message contains the word $WORD" "${dsn:-/dev/null}"
check "daemon word: never delivered to the recipient" eval "! delivered_to wrcpt@example.net"
check "daemon word: the scan transport got the command's 550 5.7.0 with the reason at end of data" \
	pf_log_wait "to=<wrcpt@example.net>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:$FPORT, .*status=bounced .*said: 550 5\.7\.0 .*message contains the word $WORD" 5
wait_queue_empty 20
sink_clear

# A client speaking to the daemon itself sees the refusal at end of data.
swaks -n -s 127.0.0.1 -p "$FPORT" -h client.postsift.test -f direct@example.com \
	-t rcpt@example.net --data "@$TESTROOT/word.eml" > "$PF_DIR/direct.log" 2>&1
check "daemon direct: refused at end of data with the reason" \
	grep -qE "<\*\* +550 5\.7\.0 .*message contains the word $WORD" "$PF_DIR/direct.log"
check "daemon direct: nothing delivered" eval "sleep 1; [ \"\$(sink_count)\" -eq 0 ]"

mk_with "$TESTROOT/slow.eml" "slow command" "CMDSCAN-SLOW"
check "daemon timeout: submitted" send_msg "$TESTROOT/slow.eml" ssender@example.com srcpt@example.net
check "daemon timeout: Postfix defers on our 451" \
	pf_log_wait "to=<srcpt@example.net>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:$FPORT, .*status=deferred .*4[0-9][0-9] 4\.3\.0" 40
check "daemon timeout: still in the queue" test "$(pf_queue_count)" -ge 1
check "daemon timeout: nothing delivered, no bounce" test "$(sink_count)" -eq 0
check "daemon timeout: logged as an error" \
	grep -q 'verdict=error, action=defer, status=deferred (.*), detail="scanner error: command cmdscan.sh: timed out after 3s.*, from=<ssender@example.com>, ' "$PS_LOG"
check "daemon timeout: the command is gone" no_cmdscan
check "daemon: no command directory left" no_cmd_dirs
ps_daemon_stop "$DAEMON"
check "daemon: remove" postsift_postfix remove -c "$PF_CONF"

finish
