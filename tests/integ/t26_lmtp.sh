#!/bin/bash
# t26_lmtp - Postfix's lmtp(8) client as the scan transport
# ("postsift-postfix install advanced --lmtp", the daemon started here with
# -F; then "install spawn --lmtp"): postsift-filter -m smtpd answers LHLO,
# and after the final dot gives one reply per recipient. The reinjection
# smtpd (10026) refuses bad@example.net with check_recipient_access:
# that recipient alone is bounced (5.1.1, "in reply to end of DATA
# command", so the refusal came after the dot, not at RCPT), the others
# are delivered exactly once; clean mail arrives byte-identical but for
# the added headers; EICAR (virus_action = reject) is refused with 5.7.1
# for every recipient; a temporary failure of the whole downstream
# transaction (smtpd_end_of_data_restrictions = defer) defers every
# recipient, and once it is lifted each is delivered exactly once.

. "$(dirname "$0")/lib.sh"
need_root
plan 39
need_prog postfix postconf smtp-sink swaks nc
getent passwd "$FILTER_USER" >/dev/null || die "no user $FILTER_USER (run scripts/install-deps)"
FILTER=$BUILD_DIR/bin/postsift-filter
[ -x "$FILTER" ] || die "no $FILTER (run make)"

# strip_added FILE - FILE without the header fields that Postfix and the
# filter add (Received, X-Virus-Scanned, X-Virus-Status)
strip_added() {
	awk 'hdr == 0 { print; next }
	     /^$/ { hdr = 0; print; next }
	     /^[ \t]/ { if (!skip) print; next }
	     { skip = ($0 ~ /^(Received|X-Virus-Scanned|X-Virus-Status):/) }
	     !skip { print }' hdr=1 "$1"
}
# same_but_headers ORIG SINKFILE - the delivered message is ORIG plus
# added header fields, and carries X-Virus-Scanned
same_but_headers() {
	sink_body "$2" > "$PF_DIR/got.eml"
	grep -q '^X-Virus-Scanned: postsift ' "$PF_DIR/got.eml" || { echo "no X-Virus-Scanned"; return 1; }
	diff -u "$1" <(strip_added "$PF_DIR/got.eml")
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
# deliveries RCPT - how many messages (not DSNs) for RCPT reached the sink
deliveries() {
	local f n=0
	for f in $(sink_messages); do
		[ -n "$(sink_sender "$f")" ] || continue
		sink_rcpts "$f" | grep -qxF "$1" && n=$((n + 1))
	done
	echo "$n"
}
# once RCPT - exactly one message for RCPT reached the sink
once() {
	local n
	n=$(deliveries "$1")
	echo "$1: $n deliveries"
	[ "$n" -eq 1 ]
}
# lmtp_said RCPT STATUS PATTERN - the lmtp(8) scan transport logged
# STATUS for RCPT through the filter's port, and PATTERN after it
lmtp_said() {
	pf_log_wait "lmtp\[[0-9]+\]: [0-9A-F]+: to=<$1>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:$FPORT, .*status=$2 .*${3:-}" 10
}
# refuse_rcpt ADDRESS - make the reinjection smtpd refuse ADDRESS
refuse_rcpt() {
	printf '%s REJECT 5.1.1 no such user here\n' "$1" > "$PF_DIR/rcpt_access"
	settle "$PF_DIR/rcpt_access"
	pfc -P "127.0.0.1:$PF_REINJECT_PORT/inet/smtpd_recipient_restrictions=check_recipient_access,texthash:$PF_DIR/rcpt_access,permit_mynetworks,reject"
	pf_reload
	pf_wait_port "$PF_REINJECT_PORT" 10
}
# reinjected - how many messages the reinjection smtpd has received
# from the filter (its client= line carries the XFORWARD attributes)
reinjected() { grep -cE 'smtpd\[[0-9]+\]: [0-9A-F]+: client=.*, orig_queue_id=' "$(pf_log)"; }

testroot_init
mk_msg "$TESTROOT/clean.eml" "clean through LMTP"
mk_eicar "$TESTROOT/eicar.com"
mk_msg_attach "$TESTROOT/eicar.eml" "$TESTROOT/eicar.com" eicar.com

# ---------------------------------------------------------------- advanced --lmtp, daemon
pf_new lm
sink_start
FPORT=$(free_port) || die "no free port"
ps_conf "smtpd_listen=127.0.0.1:$FPORT" smtpd_workers=2 "smtpd_pid_file=$PF_DIR/ps/daemon.pid" \
	virus_action=reject
pf_start
check "advanced --lmtp: install" "$PP" install advanced --lmtp -c "$PF_CONF" -p "$PS_CONF" \
	-b "$FILTER" -r "$PF_REINJECT_PORT" -P "$FPORT" -l "$PF_SMTP_PORT"
check "advanced --lmtp: the scan transport is lmtp(8)" \
	test "$(pfc -M scan/unix | awk '{ print $8 }')" = lmtp
check "advanced --lmtp: lmtp_send_xforward_command = yes" \
	test "$(pfc -Ph scan/unix/lmtp_send_xforward_command)" = yes
ps_daemon_start daemon
DAEMON=$DPID
require "advanced --lmtp: the daemon listens" pf_wait_port "$FPORT" 15
pf_wait_port "$PF_REINJECT_PORT" 10

check "lmtp clean: submitted" send_msg "$TESTROOT/clean.eml" sender@example.com rcpt@example.net
require "lmtp clean: arrives" sink_wait 1 40
check "lmtp clean: identical but for the added headers" \
	same_but_headers "$TESTROOT/clean.eml" "$(sink_messages | head -n 1)"
check "lmtp clean: delivered by the lmtp(8) scan transport" lmtp_said 'rcpt@example\.net' sent
check "lmtp: XFORWARD through the filter (orig_queue_id, orig_client)" \
	pf_log_wait "smtpd\[[0-9]+\]: [0-9A-F]+: client=.*, orig_queue_id=[0-9A-F]+, orig_client=" 5
check "lmtp clean: queue empty" wait_queue_empty 20
sink_clear

refuse_rcpt bad@example.net
n=$(reinjected)
check "lmtp partial: submitted" send_msg "$TESTROOT/clean.eml" sender@example.com \
	good1@example.net bad@example.net good2@example.net
check "lmtp partial: the refused recipient is bounced with 5.1.1" \
	eval "sink_wait 2 40; wait_for 20 dsn_for bad@example.net 5.1.1"
check "lmtp partial: the refusal came after the dot, for that recipient alone" \
	lmtp_said 'bad@example\.net' bounced '5\.1\.1.*in reply to end of DATA command'
check "lmtp partial: good1 delivered exactly once" once good1@example.net
check "lmtp partial: good2 delivered exactly once" once good2@example.net
check "lmtp partial: the refused recipient is not delivered" test "$(deliveries bad@example.net)" -eq 0
check "lmtp partial: the others were sent by the scan transport" \
	eval "lmtp_said 'good1@example\.net' sent && lmtp_said 'good2@example\.net' sent"
check "lmtp partial: the filter logs the refusal" \
	eval "grep -qE 'to=<bad@example.net>, refused by \[127.0.0.1\]:$PF_REINJECT_PORT: 5[0-9][0-9] 5\.1\.1' '$PS_LOG'"
check "lmtp partial: one downstream transaction, queue empty" \
	eval "wait_queue_empty 20 && [ \$(reinjected) -eq \$((n + 1)) ]"
sink_clear

check "lmtp EICAR: submitted" send_msg "$TESTROOT/eicar.eml" sender@example.com \
	good1@example.net good2@example.net
check "lmtp EICAR: good1 refused with 5.7.1 after the dot" \
	lmtp_said 'good1@example\.net' bounced '5\.7\.1.*in reply to end of DATA command'
check "lmtp EICAR: good2 refused with 5.7.1 after the dot" \
	lmtp_said 'good2@example\.net' bounced '5\.7\.1.*in reply to end of DATA command'
check "lmtp EICAR: the sender gets a 5.7.1 DSN" eval "sink_wait 1 40; dsn_for good1@example.net 5.7.1"
check "lmtp EICAR: nothing delivered" \
	eval "[ \$(deliveries good1@example.net) -eq 0 ] && [ \$(deliveries good2@example.net) -eq 0 ]"
wait_queue_empty 20
sink_clear

# The whole downstream transaction fails temporarily: every recipient
# is deferred; then each is delivered once.
pfc -P "127.0.0.1:$PF_REINJECT_PORT/inet/smtpd_end_of_data_restrictions=defer"
pf_reload
pf_wait_port "$PF_REINJECT_PORT" 10
check "lmtp tempfail: submitted" send_msg "$TESTROOT/clean.eml" sender@example.com \
	good1@example.net good2@example.net
check "lmtp tempfail: good1 deferred" lmtp_said 'good1@example\.net' deferred '4[0-9][0-9] '
check "lmtp tempfail: good2 deferred" lmtp_said 'good2@example\.net' deferred '4[0-9][0-9] '
check "lmtp tempfail: still queued, nothing delivered" \
	eval "[ \$(pf_queue_count) -eq 1 ] && [ \$(sink_count) -eq 0 ]"
pfc -P "127.0.0.1:$PF_REINJECT_PORT/inet/smtpd_end_of_data_restrictions="
pf_reload
pf_wait_port "$PF_REINJECT_PORT" 10
pf_flush
check "lmtp tempfail: delivered once the downstream is back" \
	eval "sink_wait 1 40 && wait_queue_empty 30"
check "lmtp tempfail: good1 exactly once" once good1@example.net
check "lmtp tempfail: good2 exactly once" once good2@example.net
sink_clear
ps_daemon_stop "$DAEMON"
check "advanced --lmtp: remove" "$PP" remove -c "$PF_CONF"
check "advanced --lmtp: no scan transport left" test -z "$(pfc -M scan/unix)"

# ---------------------------------------------------------------- spawn --lmtp
pf_new ls
sink_start
ps_conf virus_action=reject
pf_start
FPORT=$(free_port) || die "no free port"
check "spawn --lmtp: install" "$PP" install spawn --lmtp -c "$PF_CONF" -u "$FILTER_USER" \
	-p "$PS_CONF" -b "$FILTER" -r "$PF_REINJECT_PORT" -P "$FPORT" -l "$PF_SMTP_PORT" -m 4
pf_wait_port "$FPORT" 10
pf_wait_port "$PF_REINJECT_PORT" 10
refuse_rcpt bad@example.net
check "spawn lmtp partial: submitted" send_msg "$TESTROOT/clean.eml" sender@example.com \
	good1@example.net bad@example.net
check "spawn lmtp partial: good1 delivered exactly once" \
	eval "sink_wait 2 40; wait_queue_empty 20; once good1@example.net"
check "spawn lmtp partial: good1 identical but for the added headers" \
	same_but_headers "$TESTROOT/clean.eml" "$(for f in $(sink_messages); do [ -n "$(sink_sender "$f")" ] && echo "$f"; done | head -n 1)"
check "spawn lmtp partial: the refused recipient bounced after the dot" \
	eval "dsn_for bad@example.net 5.1.1 && lmtp_said 'bad@example\.net' bounced '5\.1\.1.*in reply to end of DATA command'"
check "spawn --lmtp: remove" "$PP" remove -c "$PF_CONF"

finish
