#!/bin/bash
# t33_milter_install - "postsift-postfix install milter" and "remove" on a
# running private Postfix that already has another milter (a stand-in
# for opendkim, with milter_default_action = accept as many guides set
# it): postsift's milter goes first in smtpd_milters, the other one stays
# after it; milter_default_action becomes tempfail, milter_protocol 6,
# milter_content_timeout at least the filter's smtpd_data_done_timeout
# plus 60s, the queue-id and client macros are there; postfix check is
# silent. "postsift-postfix check" names milter-not-answering while the
# milter is down and nothing while it is up; with it down the client
# gets 4xx and nothing is queued; with it up mail goes through both
# milters and is delivered. remove gives back postconf -n, -M and -P as
# before, and mail flows through the other milter alone. --local puts
# it in non_smtpd_milters too: sendmail(1) mail goes through it.
#
# postsift's milter is the real "postsift-filter -m milter"; the other
# milter is tests/integ/miltstand.py, a stand-in that answers OPTNEG,
# continues, and adds its own header at the end of the message.

. "$(dirname "$0")/checklib.sh"
plan 32

STANDIN=$TOP/tests/integ/miltstand.py
MPID=
OPID=
on_cleanup 'for p in $MPID $OPID; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; MPID=; OPID='

# milter_start - postsift's milter on $MPORT; the header it adds in HDR
milter_start() {
	wait_for 10 eval "! nc -z 127.0.0.1 $MPORT"
	"$FILTER" -m milter -F -c "$PS_CONF" >>"$PF_DIR/milter.out" 2>&1 &
	MPID=$!
	pf_wait_port "$MPORT" 20
}
# milter_stop - stop postsift's milter
milter_stop() {
	[ -n "$MPID" ] || return 0
	ps_daemon_stop "$MPID" >/dev/null 2>&1 || true
	MPID=
	wait_for 10 eval "! nc -z 127.0.0.1 $MPORT"
}
# secs VALUE - a Postfix time value in seconds
secs() { printf '%s\n' "$1" | awk '/^[0-9]+[smhdw]?$/ { n = $0 + 0; u = substr($0, length($0)); print n * (u == "m" ? 60 : u == "h" ? 3600 : u == "d" ? 86400 : u == "w" ? 604800 : 1) }'; }
# has_word LIST WORD - a white-space list holds WORD
has_word() { case " $1 " in *" $2 "*) return 0 ;; esac; return 1; }
# swaks_said TEXT - the last swaks transcript contains TEXT (extended regex)
swaks_said() { tail -n 40 "$PF_DIR/swaks.log" | grep -qE -- "$1"; }
# delivered_with HEADER... - the one delivered message has every HEADER
delivered_with() {
	local m h
	m=$(sink_messages | head -n 1)
	[ -n "$m" ] || return 1
	for h in "$@"; do
		case $h in
		!*) ! grep -qi "^${h#!}:" "$m" || return 1 ;;
		*) grep -qi "^$h:" "$m" || return 1 ;;
		esac
	done
}

pf_new mi
mk_msg "$TESTROOT/clean.eml" "postsift milter"
sink_start
MPORT=$(free_port)
OPORT=$(free_port)
ps_conf "milter_listen=inet:127.0.0.1:$MPORT" "milter_pid_file=$PF_DIR/ps/milter.pid" milter_workers=5
HDR=X-Virus-Scanned

# the site's own milter, and its smtpd with 5 processes
python3 "$STANDIN" "inet:127.0.0.1:$OPORT" X-Other-Milter "$PF_DIR/other.log" >"$PF_DIR/other.out" 2>&1 &
OPID=$!
pf_wait_port "$OPORT" 10 || die "the other milter does not listen"
pfc -F "$PF_SMTP_PORT/inet/process_limit=5"
pfc -e "smtpd_milters=inet:127.0.0.1:$OPORT" milter_default_action=accept
pf_start
snap "$PF_DIR/before.snap"

# ---------------------------------------------------------------- install
check "install milter" eval '"$PP" install milter -c "$PF_CONF" -p "$PS_CONF" -b "$FILTER" >"$PF_DIR/install.log" 2>&1'
check "smtpd_milters: postsift's milter first, the other one after it" \
	test "$(pfc -h smtpd_milters)" = "inet:127.0.0.1:$MPORT, inet:127.0.0.1:$OPORT"
check "milter_default_action = tempfail" test "$(pfc -h milter_default_action)" = tempfail
check "milter_protocol = 6" test "$(pfc -h milter_protocol)" = 6
DONE=$(secs "$("$FILTER" -c "$PS_CONF" -n -a | sed -n 's/^smtpd_data_done_timeout = //p')")
check "milter_content_timeout is the filter's smtpd_data_done_timeout ($DONE s) plus 60s or more" \
	test "$(secs "$(pfc -h milter_content_timeout)")" -ge "$((DONE + 60))"
check "the queue id macro at end of data" has_word "$(pfc -h milter_end_of_data_macros)" i
check "the client macros at connect" eval 'has_word "$(pfc -h milter_connect_macros)" "{client_addr}" && has_word "$(pfc -h milter_connect_macros)" "{client_name}"'
check "no content_filter, no reinjection service" \
	eval '[ -z "$(pfc -h content_filter)" ] && [ -z "$(pfc -M "127.0.0.1:$PF_REINJECT_PORT/inet")" ]'
check "postfix check is silent" clean_check
check "install milter again is refused" pp_rc 1 install milter -c "$PF_CONF" -p "$PS_CONF" -b "$FILTER"
check "smtpd_milters still names postsift once" \
	test "$(pfc -h smtpd_milters | tr ',' '\n' | grep -c ":$MPORT\$")" -eq 1
pf_reload
sleep 1

# ---------------------------------------------------------------- milter down
only "milter down" milter-not-answering
: > "$PF_DIR/swaks.log"
check "milter down: the message is not accepted" eval '! send_msg "$TESTROOT/clean.eml" sender@example.com rcpt@example.net'
check "milter down: the client gets 4xx" swaks_said '<\*\* +4[0-9][0-9]'
check "milter down: nothing queued" test "$(pf_queue_count)" -eq 0
check "milter down: nothing delivered" test "$(sink_count)" -eq 0

# ---------------------------------------------------------------- milter up
# (not inside check, whose subshell would keep MPID from us and leave
# the daemon running after the test)
milter_start
check "the milter starts" eval '[ -n "$MPID" ] && kill -0 "$MPID" && nc -z 127.0.0.1 "$MPORT"'
clean "milter up"
check "milter up: submitted" send_msg "$TESTROOT/clean.eml" sender@example.com rcpt@example.net
check "milter up: delivered" sink_wait 1 30
check "milter up: through postsift's milter ($HDR) and the other one" delivered_with "$HDR" X-Other-Milter
wait_queue_empty 20
sink_clear

# ---------------------------------------------------------------- remove
milter_stop
check "the milter stopped" eval '! nc -z 127.0.0.1 "$MPORT"'
check "remove" pp_rc 0 remove -c "$PF_CONF"
check "remove: postconf -n, -M and -P as before install" same_conf "$PF_DIR/before.snap"
check "remove: smtpd_milters is the other milter alone" test "$(pfc -h smtpd_milters)" = "inet:127.0.0.1:$OPORT"
pf_reload
sleep 1
check "after remove: submitted" send_msg "$TESTROOT/clean.eml" sender@example.com rcpt@example.net
check "after remove: delivered through the other milter only" eval 'sink_wait 1 30 && delivered_with X-Other-Milter "!$HDR"'
wait_queue_empty 20
sink_clear

# ---------------------------------------------------------------- --local
check "install milter --local" eval '"$PP" install milter --local -c "$PF_CONF" -p "$PS_CONF" -b "$FILTER" >>"$PF_DIR/install.log" 2>&1'
check "--local: non_smtpd_milters names postsift's milter first" \
	eval 'case "$(pfc -h non_smtpd_milters)" in "inet:127.0.0.1:$MPORT"*) true ;; *) false ;; esac'
pf_reload
sleep 1
milter_start
check "--local: sendmail accepts the message" eval 'sendmail -C "$PF_CONF" -f sender@example.com rcpt@example.net < "$TESTROOT/clean.eml"'
check "--local: delivered through postsift's milter" eval 'sink_wait 1 40 && delivered_with "$HDR"'
milter_stop
check "--local: remove restores the configuration" eval 'pp_rc 0 remove -c "$PF_CONF" >/dev/null && same_conf "$PF_DIR/before.snap"'
wait_queue_empty 20
finish
