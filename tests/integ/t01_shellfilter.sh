#!/bin/bash
# t01_shellfilter - FILTER_README's simple shell filter (shellfilter.sh),
# wired by hand with postconf and run by pipe(8) as the postsift user,
# reinjects through "sendmail -C CONFIG_DIR": mail passes the filter once
# and arrives once. This is the sendmail path of postsift-reinject.

. "$(dirname "$0")/lib.sh"
need_root
plan 21
need_prog postfix postconf smtp-sink swaks
getent passwd "$FILTER_USER" >/dev/null || die "no user $FILTER_USER (run scripts/install-deps)"
filter_uid=$(id -u "$FILTER_USER")

same_body() { cmp -s <(msg_body "$1") <(sink_body "$2" | msg_body /dev/stdin); }

pf_new sf
mkdir "$PF_DIR/inspect"
chown "$FILTER_USER" "$PF_DIR/inspect"
chmod 700 "$PF_DIR/inspect"
# The simple design of FILTER_README: content_filter on the smtpd
# service only; pickup (where sendmail's mail enters) is not filtered.
pfc -M "shellfilter/unix=shellfilter unix - n n - 10 pipe flags=Rq user=$FILTER_USER null_sender= argv=$TOP/tests/integ/shellfilter.sh $PF_DIR/inspect -C $PF_CONF -f \${sender} -- \${recipient}" ||
	die "postconf -M"
pfc -P "$PF_SMTP_PORT/inet/content_filter=shellfilter:dummy" || die "postconf -P"
sink_start
pf_start

check "filter script readable by $FILTER_USER" \
	su -s /bin/sh "$FILTER_USER" -c "test -x $TOP/tests/integ/shellfilter.sh"

mk_msg "$PF_DIR/m1.eml" "through the shell filter"
check "submission" send_msg "$PF_DIR/m1.eml" sender@example.com rcpt@example.net
check "arrives" sink_wait 1 30
check "queue empty" wait_queue_empty 20
sleep 2
check "arrives exactly once" test "$(sink_count)" -eq 1
m=$(sink_messages | head -n 1)
check "delivered by the pipe service" \
	pf_log_wait 'to=<rcpt@example.net>, relay=shellfilter, .*status=sent \(delivered via shellfilter service\)' 5
check "reinjected by sendmail as $FILTER_USER (pickup)" \
	grep -q "(Postfix, from userid $filter_uid)" "$m"
check "two queue passes (smtpd, then pickup)" \
	test "$(grep -c ': message-id=<' "$(pf_log)")" -eq 2
check "sender kept" test "$(sink_sender "$m")" = sender@example.com
check "recipient kept" test "$(sink_rcpts "$m")" = rcpt@example.net
check "body identical" same_body "$PF_DIR/m1.eml" "$m"
check "inspect dir left empty" test -z "$(ls -A "$PF_DIR/inspect")"
sink_clear

# The null sender (a bounce) passes as null_sender= makes -f "" of it.
mk_msg "$PF_DIR/m2.eml" "null sender"
check "null sender: submission" send_msg "$PF_DIR/m2.eml" '<>' rcpt2@example.net
check "null sender: arrives" sink_wait 1 30
m=$(sink_messages | head -n 1)
check "null sender: stays null" test "$(sink_mail_args "$m" | cut -d' ' -f1)" = '<>'
check "null sender: body identical" same_body "$PF_DIR/m2.eml" "$m"
wait_queue_empty 20
sink_clear

# Two recipients, one filter run; an address that needs quoting.
mk_msg "$PF_DIR/m3.eml" "two recipients"
check "2 rcpts: submission" send_msg "$PF_DIR/m3.eml" sender@example.com r1@example.net '"john doe"@example.org'
check "2 rcpts: arrive" sink_wait 1 30
check "2 rcpts: queue empty" wait_queue_empty 20
sleep 1
check "2 rcpts: one message" test "$(sink_count)" -eq 1
m=$(sink_messages | head -n 1)
check "2 rcpts: both recipients" \
	test "$(sink_rcpts "$m" | sort | tr '\n' ' ')" = '"john doe"@example.org r1@example.net '

finish
