#!/bin/bash
# t10_simple - the FILTER_README simple design with postsift-filter in pipe
# mode, wired by "postsift-postfix install simple" into a private Postfix:
# a clean message arrives with our header and is otherwise byte-identical;
# three recipients get it exactly once each; XFORWARD reaches the
# reinjection smtpd; a banned ELF bounces with a 5.7.1 DSN; forged
# X-Virus-* headers are renamed; an oversize message gets the configured
# action; sendmail reinjection works too.

. "$(dirname "$0")/lib.sh"
need_root
plan 54
need_prog postfix postconf smtp-sink swaks

# delivered_minus_added SINKFILE - the delivered message without the
# headers Postfix adds on its passes (Received, Return-Path from pipe's R
# flag) and without ours; what is left must be the submitted message
delivered_minus_added() {
	sink_body "$1" | awk '
		hdr && /^[ \t]/ { if (drop) next }
		hdr && /^$/ { hdr = 0 }
		hdr && /^[^ \t]/ { drop = ($0 ~ /^(Received|Return-Path|X-Virus-Scanned|X-Virus-Status):/) }
		hdr && drop { next }
		{ print }' hdr=1
}

# dsn_for SENDER - the first sink file addressed to SENDER that is a DSN
dsn_for() {
	local f
	for f in $(sink_messages); do
		[ "$(sink_rcpts "$f")" = "$1" ] && grep -qi '^Content-Type: multipart/report' "$f" &&
			{ echo "$f"; return 0; }
	done
	return 1
}

pf_new simple
ps_conf
check "install simple" ps_install
sink_start
pf_start

# --- a clean message -------------------------------------------------------
mk_msg "$PF_DIR/clean.eml" "clean message"
check "clean: submitted" send_msg "$PF_DIR/clean.eml" sender@example.com rcpt@example.net
check "clean: delivered" sink_wait 1 30
m=$(sink_messages | head -n 1)
check "clean: X-Virus-Scanned added" \
	grep -q '^X-Virus-Scanned: postsift [0-9.]* (ClamAV .*) on filter.postsift.test$' "$m"
check "clean: no X-Virus-Status on a clean message" \
	test -z "$(sink_body "$m" | msg_header /dev/stdin X-Virus-Status)"
check "clean: byte-identical but for the added headers" \
	cmp -s "$PF_DIR/clean.eml" <(delivered_minus_added "$m")
check "clean: sender kept" test "$(sink_sender "$m")" = sender@example.com
check "clean: one postsift log line, verdict clean, sent" \
	test "$(grep -c 'verdict=clean, action=pass, status=sent (.*), queued_as=[0-9A-Za-z]*, ' "$PS_LOG")" -eq 1
qid=$(sed -n 's/.*\]: \([0-9A-F]*\): verdict=clean, .*, from=<sender@example.com>, .*/\1/p' "$PS_LOG" | head -n 1)
check "clean: XFORWARD: reinjection smtpd logs the original queue id and client" \
	pf_log_wait "client=localhost\[127.0.0.1\], orig_queue_id=$qid, orig_client=localhost\[127.0.0.1\]" 5
check "clean: pipe reports the reinjection queue id" \
	pf_log_wait "$qid: to=<rcpt@example.net>, relay=postsift, .*status=sent \(delivered via postsift service \(2\.0\.0 Ok: queued as [0-9A-F]+\)\)" 5
wait_queue_empty 20
sink_clear

# --- three recipients, one message each ------------------------------------
mk_msg "$PF_DIR/three.eml" "three recipients"
check "three: submitted" send_msg "$PF_DIR/three.eml" sender@example.com \
	r1@example.net r2@example.org r3@example.com
check "three: delivered" sink_wait 1 30
check "three: queue empty" wait_queue_empty 20
sleep 1
for r in r1@example.net r2@example.org r3@example.com; do
	n=0
	for f in $(sink_messages); do
		n=$((n + $(sink_rcpts "$f" | grep -cxF "$r")))
	done
	check "three: $r got it exactly once" test "$n" -eq 1
done
# all_intact ORIG - every delivered message (one at least) is ORIG plus
# the added header fields
all_intact() {
	local f n=0
	for f in $(sink_messages); do
		cmp -s "$1" <(delivered_minus_added "$f") || { echo "$(basename "$f") differs"; return 1; }
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] || { echo "nothing delivered"; return 1; }
}
check "three: every copy's body intact" all_intact "$PF_DIR/three.eml"
sink_clear

# --- ORCPT: the address before the alias rewrite survives the filter -------
# virtual_alias_maps rewrites the recipient before the filter; the 10026
# smtpd sees only the new address, so the sink can see the original one in
# ORCPT only when the filter passed it on (-O=${original_recipient}).
printf 'alias@example.net real@example.net\n' > "$PF_DIR/valias"
postmap "$PF_DIR/valias"
pfc -e "virtual_alias_maps=hash:$PF_DIR/valias"
pf_reload
mk_msg "$PF_DIR/orcpt.eml" "orcpt"
check "orcpt: submitted" send_msg "$PF_DIR/orcpt.eml" sender@example.com alias@example.net
check "orcpt: delivered" sink_wait 1 30
m=$(sink_messages | head -n 1)
check "orcpt: delivered to the rewritten address" test "$(sink_rcpts "$m")" = real@example.net
check "orcpt: ORCPT is the address before the rewrite" \
	eval "sink_rcpt_args '$m' | grep -qi 'ORCPT=rfc822;alias@example.net'"
pfc -X virtual_alias_maps
pf_reload
wait_queue_empty 20
sink_clear

# --- a banned executable bounces with 5.7.1 --------------------------------
cp /bin/true "$PF_DIR/elf"
mk_msg_attach "$PF_DIR/banned.eml" "$PF_DIR/elf" invoice.pdf.exe application/pdf
check "banned: submitted" send_msg "$PF_DIR/banned.eml" bsender@example.com brcpt@example.net
check "banned: a DSN reaches the sender" sink_wait 1 30
check "banned: queue empty" wait_queue_empty 20
sleep 1
dsn=$(dsn_for bsender@example.com)
check "banned: the DSN is a bounce report" test -n "$dsn"
check "banned: DSN status 5.7.1" grep -q '^Status: 5\.7\.1' "${dsn:-/dev/null}"
check "banned: DSN names the double extension" grep -q 'invoice.pdf.exe' "${dsn:-/dev/null}"
check "banned: never delivered to the recipient" \
	test -z "$(for f in $(sink_messages); do sink_rcpts "$f"; done | grep -x brcpt@example.net)"
check "banned: log line" grep -q 'verdict=banned, action=reject, status=bounced (.*), detail="banned name \\"invoice.pdf.exe\\"' "$PS_LOG"
check "banned: pipe bounced with 5.7.1" pf_log_wait 'to=<brcpt@example.net>, relay=postsift, .*dsn=5\.7\.1, status=bounced \(message content rejected: banned' 5
sink_clear

# --- forged X-Virus-* headers are renamed ----------------------------------
mk_msg "$PF_DIR/forged.eml" "forged status"
sed -i '1i X-Virus-Status: Clean\nX-Virus-Scanned: by a forger' "$PF_DIR/forged.eml"
check "forged: submitted" send_msg "$PF_DIR/forged.eml" sender@example.com rcpt@example.net
check "forged: delivered" sink_wait 1 30
m=$(sink_messages | head -n 1)
check "forged: renamed X-Untrusted-X-Virus-Status" grep -q '^X-Untrusted-X-Virus-Status: Clean$' "$m"
check "forged: renamed X-Untrusted-X-Virus-Scanned" grep -q '^X-Untrusted-X-Virus-Scanned: by a forger$' "$m"
check "forged: one X-Virus-Scanned left, ours" \
	test "$(grep -c '^X-Virus-Scanned:' "$m")" -eq 1
wait_queue_empty 20
sink_clear

# --- oversize: the configured action ---------------------------------------
head -c 30000 /dev/urandom > "$PF_DIR/big.bin"
mk_msg_attach "$PF_DIR/big.eml" "$PF_DIR/big.bin" big.bin
ps_conf message_size_limit=20000
check "oversize tag: submitted" send_msg "$PF_DIR/big.eml" sender@example.com rcpt@example.net
check "oversize tag: delivered" sink_wait 1 30
m=$(sink_messages | head -n 1)
check "oversize tag: X-Virus-Status Unchecked" \
	grep -q '^X-Virus-Status: Unchecked (message size limit 20000 exceeded' "$m"
check "oversize tag: body intact" cmp -s "$PF_DIR/big.eml" <(delivered_minus_added "$m")
wait_queue_empty 20
sink_clear
ps_conf message_size_limit=20000 oversize_action=discard
check "oversize discard: submitted" send_msg "$PF_DIR/big.eml" sender@example.com rcpt@example.net
check "oversize discard: settled" wait_queue_empty 30
check "oversize discard: logged" grep -q 'verdict=unchecked, action=discard' "$PS_LOG"
sleep 1
check "oversize discard: nothing delivered, no bounce" test "$(sink_count)" -eq 0
check "oversize discard: pipe says delivered (discarded)" \
	pf_log_wait 'relay=postsift, .*status=sent \(delivered via postsift service \(2\.0\.0 discarded' 5
sink_clear

# --- reinjection by sendmail ------------------------------------------------
# install simple -r put "-o reinject_target=[127.0.0.1]:PORT" in the argv,
# which wins over the file: switch it there.
ps_conf
svc=$(pfc -M postsift/unix | sed 's/-o reinject_target=[^ ]*/-o reinject_target=sendmail/')
check "sendmail: argv switched" pfc -M "postsift/unix=$svc"
pf_reload
mk_msg "$PF_DIR/sm.eml" "reinjected by sendmail"
check "sendmail: submitted" send_msg "$PF_DIR/sm.eml" sender@example.com rcpt@example.net
check "sendmail: delivered" sink_wait 1 30
check "sendmail: queue empty" wait_queue_empty 20
sleep 1
check "sendmail: exactly once" test "$(sink_count)" -eq 1
m=$(sink_messages | head -n 1)
check "sendmail: X-Virus-Scanned added" grep -q '^X-Virus-Scanned: postsift ' "$m"
check "sendmail: byte-identical but for the added headers" \
	cmp -s "$PF_DIR/sm.eml" <(delivered_minus_added "$m")
check "sendmail: entered through pickup as $FILTER_USER" \
	grep -q "(Postfix, from userid $(id -u "$FILTER_USER"))" "$m"

check "no spool file left behind" test -z "$(ls -A "$PF_DIR/ps/spool")"
check "nothing bounced but the banned message" \
	test "$(grep -c 'status=bounced' "$(pf_log)")" -eq 1
finish
