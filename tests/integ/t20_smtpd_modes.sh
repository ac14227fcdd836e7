#!/bin/bash
# t20_smtpd_modes - postsift-filter -m smtpd end to end, wired by
# "postsift-postfix install spawn" (after-queue, spawn(8)) and "install
# before-queue -s" (smtpd_proxy_filter, spawn(8)): clean mail arrives
# byte-identical but for the added headers; a banned ELF named
# invoice.pdf.exe becomes a 5.7.1 DSN after the queue, and a 5.7.1 reply
# at end of data before it, with nothing queued; EICAR before the queue
# is refused with 5.7.1; the reinjection smtpd logs the XFORWARD
# attributes (orig_client, orig_queue_id); a recipient the reinjection
# smtpd refuses is refused while the others are delivered (spawn, the
# daemon, and before the queue at RCPT). The
# same for "install advanced" with the daemon started by hand (-F).

. "$(dirname "$0")/lib.sh"
need_root
plan 55
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
# delivered_to RCPT - a message (not a DSN) for RCPT reached the sink
delivered_to() {
	local f
	for f in $(sink_messages); do
		[ -n "$(sink_sender "$f")" ] || continue
		sink_rcpts "$f" | grep -qxF "$1" && return 0
	done
	return 1
}
# swaks_said TEXT - the last swaks transcript contains TEXT
swaks_said() { tail -n 40 "$PF_DIR/swaks.log" | grep -q -- "$1"; }
# refuse_rcpt PORT ADDRESS - make the reinjection smtpd refuse ADDRESS
refuse_rcpt() {
	printf '%s REJECT 5.1.1 no such user here\n' "$2" > "$PF_DIR/rcpt_access"
	settle "$PF_DIR/rcpt_access"
	pfc -P "127.0.0.1:$1/inet/smtpd_recipient_restrictions=check_recipient_access,texthash:$PF_DIR/rcpt_access,permit_mynetworks,reject"
	pf_reload
	sleep 1
}

pf_new sp
sink_start
ps_conf
pf_start
FPORT=$(free_port)

# Test messages.
mk_msg "$TESTROOT/clean.eml" "clean through smtpd mode"
head -c 8192 "$FILTER" > "$TESTROOT/elf.bin"
mk_msg_attach "$TESTROOT/banned.eml" "$TESTROOT/elf.bin" invoice.pdf.exe application/pdf
mk_eicar "$TESTROOT/eicar.com"
mk_msg_attach "$TESTROOT/eicar.eml" "$TESTROOT/eicar.com" eicar.com

check "spawn: install" "$PP" install spawn -c "$PF_CONF" -u "$FILTER_USER" -p "$PS_CONF" \
	-b "$FILTER" -r "$PF_REINJECT_PORT" -P "$FPORT" -l "$PF_SMTP_PORT" -m 4
pf_wait_port "$FPORT" 10
pf_wait_port "$PF_REINJECT_PORT" 10
# greets_220 PORT - the first line from 127.0.0.1:PORT is an SMTP 220
greets_220() {
	local g
	g=$(timeout 10 nc -w 5 127.0.0.1 "$1" </dev/null 2>/dev/null | head -n 1)
	echo "greeting: '$g'"
	[[ $g == 220* ]]
}
# The rest needs a filter that speaks SMTP: when it does not, stop here
# (failed), rather than wait out every time-out below.
require "spawn: the filter greets with 220" greets_220 "$FPORT"

check "spawn clean: submitted" send_msg "$TESTROOT/clean.eml" sender@example.com rcpt@example.net
require "spawn clean: arrives" sink_wait 1 40
check "spawn clean: queue empty" wait_queue_empty 20
check "spawn clean: identical but for the added headers" same_but_headers "$TESTROOT/clean.eml" "$(sink_messages | head -n 1)"
check "spawn clean: went through the scan transport" pf_log_wait "to=<rcpt@example.net>, relay=127.0.0.1\[127.0.0.1\]:$FPORT, .*status=sent" 5
check "spawn: reinjection smtpd logs orig_queue_id and orig_client (XFORWARD)" \
	pf_log_wait "smtpd\[[0-9]+\]: [0-9A-F]+: client=.*, orig_queue_id=[0-9A-F]+, orig_client=" 5
sink_clear

check "spawn banned: submitted (accepted before the queue)" send_msg "$TESTROOT/banned.eml" sender@example.com rcpt@example.net
check "spawn banned: a DSN arrives" sink_wait 1 40
check "spawn banned: the DSN says 5.7.1" dsn_for rcpt@example.net 5.7.1
check "spawn banned: names the double extension" eval "grep -rq 'invoice.pdf.exe' $SINK_DIR"
check "spawn banned: the message itself is not delivered" eval "! delivered_to rcpt@example.net"
wait_queue_empty 20
sink_clear

refuse_rcpt "$PF_REINJECT_PORT" bad@example.net
check "spawn partial: submitted" send_msg "$TESTROOT/clean.eml" sender@example.com good@example.net bad@example.net
check "spawn partial: good recipient delivered" eval "sink_wait 2 40; delivered_to good@example.net"
check "spawn partial: refused recipient bounced" dsn_for bad@example.net 5.1.1
check "spawn partial: refused recipient not delivered" eval "! delivered_to bad@example.net"
check "spawn partial: queue empty" wait_queue_empty 20
sink_clear
check "spawn: remove" "$PP" remove -c "$PF_CONF"

# ---------------------------------------------------------------- before-queue
pf_new bq
sink_start
ps_conf virus_action=reject
pf_start
FPORT=$(free_port)
check "before-queue: install -s" "$PP" install before-queue -s -c "$PF_CONF" -u "$FILTER_USER" \
	-p "$PS_CONF" -b "$FILTER" -r "$PF_REINJECT_PORT" -P "$FPORT" -l "$PF_SMTP_PORT" -m 4
pf_wait_port "$FPORT" 10
pf_wait_port "$PF_REINJECT_PORT" 10

check "before-queue clean: submitted" send_msg "$TESTROOT/clean.eml" sender@example.com rcpt@example.net
check "before-queue clean: arrives" sink_wait 1 40
check "before-queue clean: queue empty" wait_queue_empty 20
check "before-queue clean: identical but for the added headers" same_but_headers "$TESTROOT/clean.eml" "$(sink_messages | head -n 1)"
check "before-queue: reinjection smtpd logs orig_client (XFORWARD)" \
	pf_log_wait "smtpd\[[0-9]+\]: [0-9A-F]+: client=.*orig_client=" 5
sink_clear

# queued - how many messages qmgr has seen (a queue id that smtpd assigns
# at MAIL and drops at RSET is not a queued message)
queued() { grep -cE 'qmgr\[[0-9]+\]: [0-9A-F]+: from=' "$(pf_log)"; }
n=$(queued)
check "before-queue banned: refused" eval "! send_msg $TESTROOT/banned.eml sender@example.com rcpt@example.net"
check "before-queue banned: the client got 5.7.1 at end of data" swaks_said "<\*\* *5[0-9][0-9] 5.7.1"
sleep 2
check "before-queue banned: nothing queued" test "$(queued)" -eq "$n"
check "before-queue banned: nothing delivered, no DSN" test "$(sink_count)" -eq 0

check "before-queue EICAR: refused" eval "! send_msg $TESTROOT/eicar.eml sender@example.com rcpt@example.net"
check "before-queue EICAR: the client got 5.7.1" swaks_said "<\*\* *5[0-9][0-9] 5.7.1"
sleep 2
check "before-queue EICAR: nothing queued" test "$(queued)" -eq "$n"
check "before-queue EICAR: nothing delivered, no DSN" test "$(sink_count)" -eq 0

# A recipient the reinjection smtpd refuses is refused to the client at
# RCPT. Postfix forbids selective recipient refusals with speed_adjust
# (SMTPD_PROXY_README), which install sets: turn it off for this case.
sink_clear
pfc -P "$PF_SMTP_PORT/inet/smtpd_proxy_options="
refuse_rcpt "$PF_REINJECT_PORT" bad@example.net
pf_wait_port "$PF_SMTP_PORT" 10
n=$(queued)
send_msg "$TESTROOT/clean.eml" sender@example.com good@example.net bad@example.net
check "before-queue partial: the client got 5.1.1 at RCPT" \
	eval "tail -n 60 '$PF_DIR/swaks.log' | grep -q '<\*\* *5[0-9][0-9] 5\.1\.1'"
check "before-queue partial: good recipient delivered" eval "sink_wait 1 40; delivered_to good@example.net"
check "before-queue partial: refused recipient not delivered, no DSN" \
	eval "! delivered_to bad@example.net && [ \"\$(sink_count)\" -eq 1 ]"
check "before-queue partial: queued once" test "$(queued)" -eq $((n + 1))
check "before-queue: remove" "$PP" remove -c "$PF_CONF"

# ---------------------------------------------------------------- advanced, daemon
# The daemon reads only postsift.conf: smtpd_listen and reinject_target
# as install advanced prints them. Started as root, it drops to postsift.
pf_new ad
sink_start
ps_advanced_daemon advanced 2
check "advanced clean: submitted" send_msg "$TESTROOT/clean.eml" sender@example.com rcpt@example.net
check "advanced clean: arrives" sink_wait 1 40
check "advanced clean: identical but for the added headers" same_but_headers "$TESTROOT/clean.eml" "$(sink_messages | head -n 1)"
check "advanced: XFORWARD through the daemon" \
	pf_log_wait "smtpd\[[0-9]+\]: [0-9A-F]+: client=.*, orig_queue_id=[0-9A-F]+, orig_client=" 5
wait_queue_empty 20
sink_clear
check "advanced banned: submitted" send_msg "$TESTROOT/banned.eml" sender@example.com rcpt@example.net
check "advanced banned: a DSN arrives" sink_wait 1 40
check "advanced banned: the DSN says 5.7.1" dsn_for rcpt@example.net 5.7.1
check "advanced banned: not delivered" eval "! delivered_to rcpt@example.net"
wait_queue_empty 20
sink_clear
refuse_rcpt "$PF_REINJECT_PORT" bad@example.net
pf_reload
pf_wait_port "$PF_REINJECT_PORT" 10
check "advanced partial: submitted" send_msg "$TESTROOT/clean.eml" sender@example.com good@example.net bad@example.net
check "advanced partial: good recipient delivered" eval "sink_wait 2 40; delivered_to good@example.net"
check "advanced partial: refused recipient bounced" dsn_for bad@example.net 5.1.1
check "advanced partial: refused recipient not delivered" eval "! delivered_to bad@example.net"
check "advanced partial: refused at RCPT by the daemon (the scan transport logs it)" \
	pf_log_wait "to=<bad@example.net>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:$FPORT, .*status=bounced .*5\.1\.1" 5
check "advanced partial: queue empty" wait_queue_empty 20
ps_daemon_stop "$DAEMON"
check "advanced: remove" "$PP" remove -c "$PF_CONF"

finish
