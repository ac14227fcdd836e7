#!/bin/bash
# t31_only - "postsift-postfix install ... --only SELECTION": selective
# filtering with FILTER actions in access maps instead of a content_filter
# on the listening smtpd. For each design that can take it, on a running
# private instance with the real filter:
#   simple    --only clients=127.0.0.2/32 --only senders=texthash:MAP
#             (the client by source address, the sender by a domain key of
#             the site's own table)
#   advanced  --only recipient-domains=filtered.example (the daemon,
#             started here as t20_smtpd_modes does); a message to a
#             filtered and an unfiltered domain is filtered for both;
#             a client outside mynetworks cannot relay to a selected
#             domain
#   simple    --only clients=127.0.0.2/32 on a service with
#             smtpd_delay_reject = no: install says so and puts the client
#             check into smtpd_recipient_restrictions, and a second mail
#             transaction of the same SMTP session (python3 smtplib) is
#             filtered too
#   spawn     --only senders=in@example.com,special.example
#   spawn     two listening services (-l twice: the instance's smtpd and a
#             second inet smtpd added here, with its own
#             smtpd_null_access_lookup_key), --only 'senders=<>' --only
#             senders=both.example: both services get the check and
#             filter the selection, the null sender included under each
#             service's key
# mail outside the selection is delivered unfiltered (no X-Virus-Scanned,
# no line in the filter's log; EICAR passes untouched), mail inside it is
# filtered (X-Virus-Scanned; EICAR is caught). The listening services get
# the checks at the front of their restriction lists and no
# content_filter; the reinjection smtpd keeps its restriction lists
# cleared. remove gives back postconf -n, -M and -P byte for byte and
# deletes the tables.
# --only with before-queue, with -g, and bad selections exit 2 (usage); an
# unreadable sender table exits 1; none of them changes anything.

. "$(dirname "$0")/lib.sh"
need_root
plan 223
need_prog postfix postconf postmap smtp-sink swaks diff nc python3
getent passwd "$FILTER_USER" >/dev/null || die "no user $FILTER_USER (run scripts/install-deps)"
FILTER=$BUILD_DIR/bin/postsift-filter
[ -x "$FILTER" ] || die "no $FILTER (run make)"

# said TEXT - the last postsift-postfix output contains TEXT
said() { grep -qF -- "$1" "$PF_DIR/pp.out" || { cat "$PF_DIR/pp.out"; return 1; }; }
# no_tables - no table of ours in the configuration directory
no_tables() { ! ls "$PF_CONF"/postsift_filter_* 2>/dev/null; }
# unchanged BEFORE - same configuration, no tables, no saved state
unchanged() { same_conf "$1" && no_tables && test ! -e "$PF_CONF/postsift-postfix.saved"; }
# is SERVICE/TYPE/NAME WANT - the service's -o NAME is WANT
is() {
	local got
	got=$(pfc -Ph "$1" 2>/dev/null)
	[ "$got" = "$2" ] || { echo "$1 = '$got', want '$2'"; return 1; }
}
# has_param SERVICE/TYPE/NAME - the service sets NAME
has_param() { pfc -P "$1" 2>/dev/null | grep -q .; }
# pp_check_clean - "postsift-postfix check" of the instance exits 0 and
# reports nothing (the FILTER actions of --only are filter requests too)
pp_check_clean() {
	local out rc=0
	out=$("$PP" check -c "$PF_CONF" -p "$PS_CONF" 2>&1) || rc=$?
	[ "$rc" -eq 0 ] && [ -z "$out" ] && return 0
	echo "exit $rc: $out"
	return 1
}
# reinject_clean - the reinjection smtpd cannot FILTER again: no
# content_filter, restriction lists that hold no access check, no header
# or body checks, no milters, and (--only) no second address mapping
reinject_clean() {
	local s=127.0.0.1:$PF_REINJECT_PORT/inet p
	is "$s/content_filter" "" || return 1
	for p in smtpd_helo_restrictions smtpd_client_restrictions smtpd_sender_restrictions \
		smtpd_data_restrictions smtpd_end_of_data_restrictions; do
		has_param "$s/$p" && is "$s/$p" "" || return 1
	done
	is "$s/smtpd_recipient_restrictions" permit_mynetworks,reject || return 1
	is "$s/smtpd_relay_restrictions" permit_mynetworks,reject || return 1
	is "$s/receive_override_options" no_unknown_recipient_checks,no_header_body_checks,no_milters,no_address_mappings
}

# send_from IP FILE SENDER RCPT... - send_msg from the local address IP
# to the smtpd on port $TO_PORT (when set, else $PF_SMTP_PORT); SENDER <>
# is the null sender
TO_PORT=
send_from() {
	local ip=$1 file=$2 sender=$3 rcpts smtp rc
	shift 3
	rcpts=$(IFS=,; echo "$*")
	smtp=$(mktemp "$PF_DIR/send.XXXXXX")
	{ sed -e 's/\r$//' -e 's/^\./../' -e 's/$/\r/' "$file"; printf '.'; } > "$smtp"
	swaks -ndf -n -s 127.0.0.1 -p "${TO_PORT:-$PF_SMTP_PORT}" -li "$ip" -h client.postsift.test \
		-f "$sender" -t "$rcpts" --data "@$smtp" >>"$PF_DIR/swaks.log" 2>&1
	rc=$?
	rm -f "$smtp"
	return $rc
}
# msg_from SENDER - the sink file of the message from SENDER
msg_from() {
	local f
	for f in $(sink_messages); do
		[ "$(sink_sender "$f")" = "$1" ] && { echo "$f"; return 0; }
	done
	return 1
}
# two_mails IP SENDER1 SENDER2 RCPT - two mail transactions in one SMTP
# session from the local address IP (swaks makes one a session), with
# python3's smtplib (not our client code); transcript in two_mails.log
two_mails() {
	python3 - "$1" "${TO_PORT:-$PF_SMTP_PORT}" "$TESTROOT/clean.eml" "$2" "$3" "$4" \
		>>"$PF_DIR/two_mails.log" 2>&1 <<'EOF'
import smtplib, sys
ip, port, path, s1, s2, rcpt = sys.argv[1:]
msg = open(path, encoding="ascii").read()
c = smtplib.SMTP("127.0.0.1", int(port), local_hostname="client.postsift.test",
                 source_address=(ip, 0), timeout=60)
c.set_debuglevel(1)
c.ehlo()
for sender in (s1, s2):
    c.sendmail(sender, [rcpt], msg)  # no RSET in between: one session
c.quit()
EOF
}
# null_to RCPT - the sink file of the null-sender message to RCPT
null_to() {
	local f
	for f in $(sink_messages); do
		[ -z "$(sink_sender "$f")" ] && sink_rcpts "$f" | grep -qxF "$1" && { echo "$f"; return 0; }
	done
	return 1
}
# arrives SENDER - a message from SENDER reaches the sink within 40 s
arrives() {
	local end=$((SECONDS + 40))
	until msg_from "$1" >/dev/null; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.2
	done
}
# scanned SENDER / unscanned SENDER - its message has (no) X-Virus-Scanned
scanned() { grep -q '^X-Virus-Scanned: postsift ' "$(msg_from "$1")"; }
unscanned() { local f; f=$(msg_from "$1") && ! grep -qi '^X-Virus-Scanned:' "$f"; }
# logged SENDER [PATTERN] - the filter logged a message from SENDER
logged() {
	local end=$((SECONDS + 20))
	until grep -E -- "from=<$1>, " "$PS_LOG" 2>/dev/null | grep -qE -- "${2:-}"; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.2
	done
}
not_logged() { ! grep -qF -- "from=<$1>" "$PS_LOG"; }
# all_rcpts SENDER RCPT... - the message from SENDER went to each RCPT
all_rcpts() {
	local f r s=$1
	shift
	for r in "$@"; do
		f=
		for f in $(sink_messages); do
			[ "$(sink_sender "$f")" = "$s" ] && sink_rcpts "$f" | grep -qxF "$r" && break
			f=
		done
		[ -n "$f" ] && grep -q '^X-Virus-Scanned: postsift ' "$f" || { echo "$r: not delivered scanned"; return 1; }
	done
}

# outside NAME SENDER [IP [RCPT]] - clean mail outside the selection
outside() {
	check "$1: outside: submitted" send_from "${3:-127.0.0.1}" "$TESTROOT/clean.eml" "$2" "${4:-rcpt@plain.example}"
	check "$1: outside: arrives" arrives "$2"
	check "$1: outside: unfiltered (no X-Virus-Scanned)" unscanned "$2"
	check "$1: outside: not in the filter's log" not_logged "$2"
}
# outside_eicar NAME SENDER [IP [RCPT]] - EICAR outside passes untouched
outside_eicar() {
	check "$1: EICAR outside: submitted" send_from "${3:-127.0.0.1}" "$TESTROOT/eicar.eml" "$2" "${4:-rcpt@plain.example}"
	check "$1: EICAR outside: delivered unscanned" eval "arrives $2 && unscanned $2"
	check "$1: EICAR outside: not in the filter's log" not_logged "$2"
}
# inside NAME SENDER [IP [RCPT]] - clean mail inside the selection
inside() {
	check "$1: inside: submitted" send_from "${3:-127.0.0.1}" "$TESTROOT/clean.eml" "$2" "${4:-rcpt@plain.example}"
	check "$1: inside: arrives" arrives "$2"
	check "$1: inside: filtered (X-Virus-Scanned)" scanned "$2"
	check "$1: inside: in the filter's log" logged "$2" "verdict=clean"
}
# inside_eicar NAME SENDER [IP [RCPT]] - EICAR inside is caught
inside_eicar() {
	check "$1: EICAR inside: submitted" send_from "${3:-127.0.0.1}" "$TESTROOT/eicar.eml" "$2" "${4:-rcpt@plain.example}"
	check "$1: EICAR inside: caught" logged "$2" "verdict=infected, action=quarantine"
	wait_queue_empty 20
	check "$1: EICAR inside: not delivered" eval "! msg_from $2"
}
# removed NAME BEFORE - remove restores the configuration, deletes tables
removed() {
	check "$1: remove" pp_rc 0 remove -c "$PF_CONF"
	check "$1: remove names the deleted tables" said "deleted $PF_CONF/postsift_filter_"
	check "$1: postconf -n, -M, -P as before" same_conf "$2"
	check "$1: tables deleted" no_tables
	check "$1: saved state deleted" test ! -e "$PF_CONF/postsift-postfix.saved"
}

testroot_init
mk_msg "$TESTROOT/clean.eml" "clean, selective filtering"
mk_eicar "$TESTROOT/eicar.com"
mk_msg_attach "$TESTROOT/eicar.eml" "$TESTROOT/eicar.com" eicar.com

# ---------------------------------------------------------------- simple
pf_new sm
sink_start
ps_conf
pf_start
snap "$PF_DIR/before.snap"
B=$PF_DIR/before.snap
L=$PF_SMTP_PORT/inet

# Refusals first: each exits with its status and changes nothing.
bad() {
	local name=$1 want=$2 text=$3
	shift 3
	check "refused: $name (exit $want)" pp_rc "$want" "$@"
	check "refused: $name: says why" said "$text"
	check "refused: $name: nothing changed" unchanged "$B"
}
FPORT=$(free_port)
bad "before-queue --only" 2 "FILTER actions with smtpd_proxy_filter" \
	install before-queue -s -c "$PF_CONF" -u "$FILTER_USER" -p "$PS_CONF" -b "$FILTER" \
	-r "$PF_REINJECT_PORT" -P "$FPORT" -l "$PF_SMTP_PORT" --only clients=127.0.0.2
bad "before-queue --only=" 2 "FILTER actions with smtpd_proxy_filter" \
	install before-queue -c "$PF_CONF" -p "$PS_CONF" -r "$PF_REINJECT_PORT" -P "$FPORT" \
	-l "$PF_SMTP_PORT" --only=recipient-domains=filtered.example
bad "-g with --only" 2 "does not go with --only" \
	install advanced -g -c "$PF_CONF" -p "$PS_CONF" -r "$PF_REINJECT_PORT" -P "$FPORT" \
	--only clients=127.0.0.2
S=(install simple -c "$PF_CONF" -u "$FILTER_USER" -p "$PS_CONF" -b "$FILTER" -r "$PF_REINJECT_PORT" -l "$PF_SMTP_PORT")
bad "--only without a value" 2 "--only needs a selection" "${S[@]}" --only
bad "unknown selection" 2 "unknown selection" "${S[@]}" --only helo=x.example
bad "selection without =" 2 "want clients=" "${S[@]}" --only clients
bad "empty list" 2 "empty list" "${S[@]}" --only clients=
bad "empty item" 2 "empty item" "${S[@]}" --only clients=127.0.0.2,,10.0.0.0/8
bad "clients: octet too large" 2 "300.1.1.1" "${S[@]}" --only clients=300.1.1.1
bad "clients: host bits set" 2 "10.1.2.3/8" "${S[@]}" --only clients=10.1.2.3/8
bad "clients: not an address" 2 "not an address" "${S[@]}" --only clients=mail.example
bad "senders: @domain" 2 "without @" "${S[@]}" --only senders=@example.com
bad "senders: white space" 2 "no white space" "${S[@]}" --only 'senders=a@example.com, b@example.com'
bad "senders: bad map name" 2 "not a lookup table" "${S[@]}" --only senders=hash:
bad "recipient-domains: not a domain" 2 "not a domain" "${S[@]}" --only recipient-domains=bad_domain.example
bad "second selection bad" 2 "not a domain" "${S[@]}" --only clients=127.0.0.2 --only recipient-domains=-x.example
bad "senders: unreadable table" 1 "cannot read the table" "${S[@]}" --only senders=hash:$PF_DIR/no-such-table
check "a leftover table: refused (exit 1)" eval "touch $PF_CONF/postsift_filter_clients.cidr; pp_rc 1 ${S[*]} --only clients=127.0.0.2"
check "a leftover table: says so" said "postsift_filter_clients.cidr exists"
rm -f "$PF_CONF/postsift_filter_clients.cidr"
check "a leftover table: nothing changed" unchanged "$B"

# The site's sender table: a domain key, any value.
printf 'vip.example yes\n' > "$PF_DIR/filtered_senders"
settle "$PF_DIR/filtered_senders"
check "simple: install --only clients= --only senders=MAP" pp_rc 0 "${S[@]}" \
	--only clients=127.0.0.2/32 --only "senders=texthash:$PF_DIR/filtered_senders"
check "simple: no content_filter on the listening smtpd" eval "! has_param $L/content_filter"
check "simple: no_address_mappings not on the listening smtpd" eval "! has_param $L/receive_override_options"
check "simple: client check first" is "$L/smtpd_client_restrictions" "check_client_access,cidr:$PF_CONF/postsift_filter_clients.cidr"
check "simple: sender map check first" is "$L/smtpd_sender_restrictions" \
	"check_sender_access,pipemap:{texthash:$PF_DIR/filtered_senders,regexp:$PF_CONF/postsift_filter_action.regexp}"
check "simple: recipient list untouched" eval "! has_param $L/smtpd_recipient_restrictions"
check "simple: cidr table" grep -qx "127.0.0.2/32 FILTER postsift:dummy" "$PF_CONF/postsift_filter_clients.cidr"
check "simple: action table" grep -qx "/^/ FILTER postsift:dummy" "$PF_CONF/postsift_filter_action.regexp"
check "simple: reinjection smtpd cannot FILTER again" reinject_clean
check "simple: postfix check clean" clean_check
pf_wait_port "$PF_REINJECT_PORT" 10
sleep 1
check "simple: postsift-postfix check finds nothing" pp_check_clean
outside simple plain-sm@example.com
outside_eicar simple eicar-out-sm@example.com
inside "simple (client 127.0.0.2)" cl-sm@example.com 127.0.0.2
inside_eicar "simple (client 127.0.0.2)" eicar-cl-sm@example.com 127.0.0.2
inside "simple (sender map, domain key)" boss@vip.example
inside_eicar "simple (sender map)" eicar@vip.example
removed simple "$B"

# smtpd_delay_reject = no on the listening service: its client list then
# runs when the client connects, and smtpd forgets a FILTER at EHLO/HELO
# and at the end of each mail transaction (mail_reset), so a FILTER there
# filters nothing; install puts the client check into the recipient list
# instead, which runs for each RCPT of each transaction.
pfc -P "$L/smtpd_delay_reject=no"
snap "$B"
D="simple, smtpd_delay_reject = no"
check "$D: install --only clients=" pp_rc 0 "${S[@]}" --only clients=127.0.0.2/32
check "$D: install says where the client check goes" \
	said "smtpd_delay_reject = no: the client check goes into smtpd_recipient_restrictions"
check "$D: client check in the recipient list" is "$L/smtpd_recipient_restrictions" \
	"check_client_access,cidr:$PF_CONF/postsift_filter_clients.cidr"
check "$D: client list untouched" eval "! has_param $L/smtpd_client_restrictions"
check "$D: cidr table" grep -qx "127.0.0.2/32 FILTER postsift:dummy" "$PF_CONF/postsift_filter_clients.cidr"
pf_wait_port "$PF_REINJECT_PORT" 10
sleep 1
check "$D: two transactions in one session from 127.0.0.2: sent" \
	two_mails 127.0.0.2 dr1-sm@example.com dr2-sm@example.com rcpt@plain.example
check "$D: both in one SMTP session (smtpd's log)" \
	pf_log_wait 'disconnect from [^ ]*\[127\.0\.0\.2\] ehlo=1 mail=2 rcpt=2 data=2 ' 10
check "$D: first transaction arrives" arrives dr1-sm@example.com
check "$D: first transaction filtered (X-Virus-Scanned)" scanned dr1-sm@example.com
check "$D: first transaction in the filter's log" logged dr1-sm@example.com "verdict=clean"
check "$D: second transaction arrives" arrives dr2-sm@example.com
check "$D: second transaction filtered (X-Virus-Scanned)" scanned dr2-sm@example.com
check "$D: second transaction in the filter's log" logged dr2-sm@example.com "verdict=clean"
outside "$D" dr-out-sm@example.com 127.0.0.1
removed "$D" "$B"
check "$D: the service's own setting is back" is "$L/smtpd_delay_reject" no
pf_stop
sink_stop

# ---------------------------------------------------------------- advanced
pf_new ad
sink_start
FPORT=$(free_port)
ps_conf "smtpd_listen=127.0.0.1:$FPORT" smtpd_workers=2 "smtpd_pid_file=$PF_DIR/ps/daemon.pid"
# a site's own recipient restrictions, in main.cf with white space
pfc -e "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination"
# 127.0.0.2 is a stranger here: the FILTER check must not let it relay
pfc -e "mynetworks = 127.0.0.1/32"
pf_start
snap "$PF_DIR/before.snap"
B=$PF_DIR/before.snap
L=$PF_SMTP_PORT/inet
check "advanced: install --only recipient-domains=" pp_rc 0 install advanced -c "$PF_CONF" \
	-p "$PS_CONF" -b "$FILTER" -r "$PF_REINJECT_PORT" -P "$FPORT" -l "$PF_SMTP_PORT" \
	--only recipient-domains=Filtered.Example,second.example
check "advanced: no content_filter on the listening smtpd" eval "! has_param $L/content_filter"
check "advanced: no_address_mappings not on the listening smtpd" eval "! has_param $L/receive_override_options"
check "advanced: recipient check first, the site's list kept" is "$L/smtpd_recipient_restrictions" \
	"check_recipient_access,texthash:$PF_CONF/postsift_filter_recipient_domains,permit_mynetworks,reject_unauth_destination"
check "advanced: domain table" eval "grep -qx 'filtered.example FILTER scan:\[127.0.0.1\]:$FPORT' $PF_CONF/postsift_filter_recipient_domains"
check "advanced: scan transport there" eval "pfc -M scan/unix | grep -q smtp"
check "advanced: reinjection smtpd cannot FILTER again" reinject_clean
check "advanced: postfix check clean" clean_check
ps_daemon_start daemon
DAEMON=$DPID
check "advanced: the daemon listens" pf_wait_port "$FPORT" 15
pf_wait_port "$PF_REINJECT_PORT" 10
check "advanced: postsift-postfix check finds nothing" pp_check_clean
outside advanced plain-ad@example.com 127.0.0.1 rcpt@plain.example
outside_eicar advanced eicar-out-ad@example.com 127.0.0.1 rcpt@plain.example
inside advanced in-ad@example.com 127.0.0.1 rcpt@filtered.example
inside "advanced (subdomain)" sub-ad@example.com 127.0.0.1 rcpt@mx.second.example
inside_eicar advanced eicar-in-ad@example.com 127.0.0.1 rcpt@filtered.example
check "advanced: mixed domains: submitted" send_from 127.0.0.1 "$TESTROOT/clean.eml" mixed-ad@example.com \
	a@plain.example b@filtered.example
check "advanced: mixed domains: both recipients filtered (one filter per message)" \
	eval "sink_wait 1 40; sleep 1; wait_queue_empty 20; all_rcpts mixed-ad@example.com a@plain.example b@filtered.example"
check "advanced: a selected domain is no open relay: refused" \
	eval "! send_from 127.0.0.2 $TESTROOT/clean.eml stranger@example.com rcpt@filtered.example"
check "advanced: a selected domain is no open relay: Relay access denied" \
	eval "tail -n 30 $PF_DIR/swaks.log | grep -q 'Relay access denied'"
ps_daemon_stop "$DAEMON"
removed advanced "$B"
pf_stop
sink_stop

# ---------------------------------------------------------------- spawn
pf_new sp
sink_start
ps_conf
pf_start
snap "$PF_DIR/before.snap"
B=$PF_DIR/before.snap
L=$PF_SMTP_PORT/inet
FPORT=$(free_port)
# the service's own sender restrictions come first in the list we keep
pfc -P "$L/smtpd_sender_restrictions=reject_non_fqdn_sender"
snap "$B"
check "spawn: install --only senders=LIST" pp_rc 0 install spawn -c "$PF_CONF" -u "$FILTER_USER" \
	-p "$PS_CONF" -b "$FILTER" -r "$PF_REINJECT_PORT" -P "$FPORT" -l "$PF_SMTP_PORT" -m 4 \
	--only senders=In@Example.com,special.example
check "spawn: no content_filter on the listening smtpd" eval "! has_param $L/content_filter"
check "spawn: sender check first, the service's list kept" is "$L/smtpd_sender_restrictions" \
	"check_sender_access,texthash:$PF_CONF/postsift_filter_senders,reject_non_fqdn_sender"
check "spawn: sender table" eval "grep -qx 'in@example.com FILTER scan:\[127.0.0.1\]:$FPORT' $PF_CONF/postsift_filter_senders"
check "spawn: reinjection smtpd cannot FILTER again" reinject_clean
check "spawn: postfix check clean" clean_check
pf_wait_port "$FPORT" 10
pf_wait_port "$PF_REINJECT_PORT" 10
check "spawn: postsift-postfix check finds nothing" pp_check_clean
outside spawn out-sp@example.com
outside_eicar spawn eicar-sp@example.com
inside "spawn (address)" in@example.com
inside "spawn (domain)" someone@special.example
inside_eicar "spawn (domain)" virus@special.example
removed spawn "$B"
check "spawn: the service's own setting is back" is "$L/smtpd_sender_restrictions" reject_non_fqdn_sender

# ---------------------------------------------------------------- spawn, two services
# The same instance again: a second inet smtpd, and both as listening
# services (-l twice); the null sender selected (--only senders=<>) on
# the first with the default access(5) key <>, on the second with the
# smtpd_null_access_lookup_key it has of its own; a domain with a second
# --only.
P2=$(free_port)
L2=127.0.0.1:$P2/inet
pfc -M "$L2=127.0.0.1:$P2 inet n - n - - smtpd"
pfc -P "$L2/smtpd_null_access_lookup_key=<MAILER-DAEMON>"
pf_reload
pf_wait_port "$P2" 10 || die "the second smtpd does not listen on $P2"
snap "$B"
FPORT=$(free_port)
T="spawn, two services"
check "$T: install -l PORT -l PORT2 --only senders=<> --only senders=DOMAIN" pp_rc 0 install spawn \
	-c "$PF_CONF" -u "$FILTER_USER" -p "$PS_CONF" -b "$FILTER" -r "$PF_REINJECT_PORT" -P "$FPORT" \
	-l "$PF_SMTP_PORT" -l "$P2" -m 4 --only 'senders=<>' --only=senders=both.example
check "$T: install names both services" said "mail received by $L $L2 and selected by --only"
check "$T: no content_filter on the first" eval "! has_param $L/content_filter"
check "$T: no content_filter on the second" eval "! has_param $L2/content_filter"
check "$T: sender check first on the first, its list kept" is "$L/smtpd_sender_restrictions" \
	"check_sender_access,texthash:$PF_CONF/postsift_filter_senders,reject_non_fqdn_sender"
check "$T: sender check on the second" is "$L2/smtpd_sender_restrictions" \
	"check_sender_access,texthash:$PF_CONF/postsift_filter_senders"
check "$T: sender table has the null sender key <>" \
	eval "grep -qxF '<> FILTER scan:[127.0.0.1]:$FPORT' $PF_CONF/postsift_filter_senders"
check "$T: sender table has the second service's null sender key" \
	eval "grep -qxF '<MAILER-DAEMON> FILTER scan:[127.0.0.1]:$FPORT' $PF_CONF/postsift_filter_senders"
check "$T: sender table has the domain" \
	eval "grep -qxF 'both.example FILTER scan:[127.0.0.1]:$FPORT' $PF_CONF/postsift_filter_senders"
check "$T: reinjection smtpd cannot FILTER again" reinject_clean
check "$T: postfix check clean" clean_check
pf_wait_port "$FPORT" 10
pf_wait_port "$PF_REINJECT_PORT" 10
sleep 1
check "$T: postsift-postfix check finds nothing" pp_check_clean
outside "$T (first)" out1-sp2@example.com
inside "$T (first)" a@both.example
TO_PORT=$P2
outside "$T (second)" out2-sp2@example.com
inside "$T (second)" b@both.example
check "$T: null sender on the second: submitted" send_from 127.0.0.1 "$TESTROOT/clean.eml" "<>" null2-sp2@plain.example
TO_PORT=
check "$T: null sender on the first: submitted" send_from 127.0.0.1 "$TESTROOT/clean.eml" "<>" null1-sp2@plain.example
for n in 1 2; do
	check "$T: null sender ($n): arrives" wait_for 40 null_to "null$n-sp2@plain.example"
	check "$T: null sender ($n): filtered (X-Virus-Scanned)" \
		eval "grep -q '^X-Virus-Scanned: postsift ' \"\$(null_to null$n-sp2@plain.example)\""
	check "$T: null sender ($n): in the filter's log" logged "" "verdict=clean, .*to=<null$n-sp2@plain\.example>"
done
removed "$T" "$B"

finish
