#!/bin/bash
# t30_check - "postsift-postfix check" (check/, the program postsift-check). Every
# install design (simple, advanced with the daemon, spawn, before-queue
# with the daemon and with -s) checks clean (exit 0, no finding). Then,
# on a fresh install each time, exactly one mistake is seeded with
# postconf (-e, -P, -F, -M): check exits 1 and reports that finding's id
# and no other. Where the harm shows quickly, the mail flow shows it: a
# content_filter or a FILTER table on the reinjection smtpd and a global
# content_filter with sendmail reinjection loop (postsift defers the
# message: "mail forwarding loop"); header checks on the reinjection
# smtpd act a second time (a PREPEND twice); without null_sender= the
# filter is told the null sender is MAILER-DAEMON; flag D with a
# recipient limit above 1 defers multi-recipient mail; a pipe time limit
# below pipe_deadline kills a hanging filter ("Command time limit
# exceeded"); XFORWARD not authorized loses the client; a FILTER table
# with smtpd_proxy_filter is ignored; a filter that is down leaves mail
# deferred in the queue. t32_check_harm has more findings and harms.

. "$(dirname "$0")/checklib.sh"
plan 73

# ================================================================ simple
pf_new si
mk_msg "$TESTROOT/clean.eml" "postsift check"
sink_start
ps_conf
pf_start
R=127.0.0.1:$PF_REINJECT_PORT/inet
FPORT=$(free_port)

reinstall simple
clean "simple"

# 1. content_filter on the reinjection smtpd: a loop
reinstall simple
pfc -P "$R/content_filter=postsift:dummy"; reload
only "reinject content_filter" reinject-content-filter
check "reinject content_filter: submitted" send_msg "$TESTROOT/clean.eml" sender@example.com rcpt@example.net
check "reinject content_filter: the message loops until postsift defers it" loop_deferred
check "reinject content_filter: nothing delivered" test "$(sink_count)" -eq 0
drain

# 2. a FILTER table among the reinjection smtpd's restrictions: a loop
reinstall simple
printf '127.0.0.0/8 FILTER postsift:dummy\n' > "$PF_DIR/filter.cidr"
pfc -P "$R/smtpd_client_restrictions=check_client_access,cidr:$PF_DIR/filter.cidr"; reload
only "reinject FILTER restriction" reinject-filter-restriction
check "reinject FILTER restriction: submitted" send_msg "$TESTROOT/clean.eml" sender@example.com rcpt@example.net
check "reinject FILTER restriction: the message loops until postsift defers it" loop_deferred
check "reinject FILTER restriction: nothing delivered" test "$(sink_count)" -eq 0
drain
# the same table without FILTER is no finding
printf '127.0.0.0/8 OK\n' > "$PF_DIR/filter.cidr"
clean "reinject access table without FILTER"

# 2. header checks active on the reinjection smtpd: they act twice
reinstall simple
printf '/^Subject:/ PREPEND X-Header-Checked: yes\n' > "$PF_DIR/header_checks"
pfc -e "header_checks=regexp:$PF_DIR/header_checks"; reload
clean "header_checks with no_header_body_checks on the reinjection smtpd"
# header_count N - the delivered message has N X-Header-Checked lines
header_count() { [ "$(grep -c '^X-Header-Checked: yes' "$(sink_messages | head -n 1)")" -eq "$1" ]; }
check "header checks once: submitted" send_msg "$TESTROOT/clean.eml" sender@example.com rcpt@example.net
check "header checks once: delivered" sink_wait 1 30
check "header checks once: one PREPEND" header_count 1
wait_queue_empty 20
drain
pfc -P "$R/receive_override_options=no_unknown_recipient_checks,no_milters"; reload
only "reinject header checks" reinject-header-body-checks
check "header checks twice: submitted" send_msg "$TESTROOT/clean.eml" sender@example.com rcpt@example.net
check "header checks twice: delivered" sink_wait 1 30
check "header checks twice: the PREPEND is done twice" header_count 2
wait_queue_empty 20
drain

# 2. milters active on the reinjection smtpd
reinstall simple
pfc -e "smtpd_milters=inet:127.0.0.1:$(free_port)"
clean "smtpd_milters with no_milters on the reinjection smtpd"
pfc -P "$R/receive_override_options=no_unknown_recipient_checks,no_header_body_checks"
only "reinject milters" reinject-milters

# 3. receive_override_options missing on the reinjection smtpd
reinstall simple
pfc -PX "$R/receive_override_options"
only "reinject receive_override_options" reinject-receive-override

# 4. XFORWARD not authorized: the client is lost
reinstall simple
pfc -PX "$R/smtpd_authorized_xforward_hosts"; reload
only "reinject XFORWARD" reinject-xforward
: > "$(pf_log)"
check "reinject XFORWARD: submitted" send_msg "$TESTROOT/clean.eml" sender@example.com rcpt@example.net
check "reinject XFORWARD: delivered" sink_wait 1 30
check "reinject XFORWARD: the reinjection smtpd logs localhost, not the client" \
	eval "grep -E 'smtpd\[[0-9]+\]: [0-9A-F]+: client=localhost\[127.0.0.1\]' '$(pf_log)' | grep -qv orig_client="
drain

# 5. the reinjection smtpd's process limit below the pipe's
reinstall simple
pfc -F "$R/process_limit=2"
only "reinject process limit" reinject-process-limit

# 7. pipe without null_sender=: the filter gets MAILER-DAEMON, not <>
reinstall simple
pipe_cmd 's/ null_sender=//'; reload
only "pipe null_sender" pipe-null-sender
check "pipe null_sender: null-sender mail submitted" send_msg "$TESTROOT/clean.eml" '<>' rcpt@example.net
check "pipe null_sender: the filter is told the sender is MAILER-DAEMON" \
	wait_for 30 grep -q 'from=<MAILER-DAEMON>' "$PS_LOG"
wait_queue_empty 20
drain
reinstall simple
check "null sender with null_sender=: submitted" send_msg "$TESTROOT/clean.eml" '<>' rcpt@example.net
check "null sender with null_sender=: the filter gets the null sender" \
	wait_for 30 grep -q 'from=<>,' "$PS_LOG"
wait_queue_empty 20
drain

# 7. sendmail -t in the pipe's argv
reinstall simple
pipe_cmd 's|argv=.*|argv=/usr/sbin/sendmail -G -t -i -f ${sender}|'
only "pipe sendmail -t" pipe-sendmail-t

# 7. flag D with a recipient limit above 1: multi-recipient mail deferred
reinstall simple
pipe_cmd 's/flags=Rq/flags=DRq/'; reload
only "pipe flag D" pipe-recipient-limit
: > "$(pf_log)"
check "pipe flag D: two recipients submitted" send_msg "$TESTROOT/clean.eml" sender@example.com a@example.net b@example.net
check "pipe flag D: deferred (mail system configuration error)" \
	pf_log_wait 'status=deferred.*(configuration error|recipient_limit)' 20
check "pipe flag D: nothing delivered" test "$(sink_count)" -eq 0
drain
pfc -e postsift_destination_recipient_limit=1
clean "pipe flag D with recipient limit 1"

# 7. pipe time limit at or below pipe_deadline: pipe(8) kills the filter
reinstall simple
pfc -e postsift_time_limit=5s; reload
only "pipe time limit" pipe-time-limit
# a scanner that accepts and never answers makes the filter hang
HPORT=$(free_port)
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16); time.sleep(120)' "$HPORT" &
HANG=$!
ps_conf "scanner=clamd:inet:127.0.0.1:$HPORT" clamd_timeout=60s
: > "$(pf_log)"
check "pipe time limit: submitted" send_msg "$TESTROOT/clean.eml" sender@example.com rcpt@example.net
check "pipe time limit: pipe(8) kills the hanging filter" pf_log_wait 'Command time limit exceeded' 30
check "pipe time limit: not delivered" test "$(sink_count)" -eq 0
kill "$HANG" 2>/dev/null; wait "$HANG" 2>/dev/null; HANG=
ps_conf
drain

# 9. content_filter in main.cf with sendmail reinjection: a loop
reinstall simple
pipe_cmd 's/reinject_target=[^ ]*/reinject_target=sendmail/'; reload
clean "sendmail reinjection, content_filter on the smtpd only"
pfc -e content_filter=postsift:dummy; reload
only "global content_filter, sendmail" global-filter-sendmail-loop
check "global content_filter, sendmail: submitted" send_msg "$TESTROOT/clean.eml" sender@example.com rcpt@example.net
check "global content_filter, sendmail: the message loops until postsift defers it" loop_deferred
check "global content_filter, sendmail: nothing delivered" test "$(sink_count)" -eq 0
drain
"$PP" remove -c "$PF_CONF" >>"$PF_DIR/install.log" 2>&1
pfc -X content_filter
pf_stop

# ================================================================ advanced, spawn
daemon_instance ad

# 6. the scan transport's concurrency above smtpd_workers
reinstall advanced
pfc -F "scan/unix/process_limit=4"
only "scan concurrency" scan-concurrency
pfc -e scan_destination_concurrency_limit=2
clean "scan process limit 4, destination concurrency 2"
pfc -X scan_destination_concurrency_limit

# 8. smtp_data_done_timeout too short for the filter
reinstall advanced
pfc -P "scan/unix/smtp_data_done_timeout=300s"
only "scan data done timeout" scan-data-done-timeout

# 3. no_address_mappings missing where content_filter is set
reinstall advanced
pfc -PX "$S/receive_override_options"
only "listening smtpd without no_address_mappings" filter-address-mappings

# 5. the reinjection smtpd's process limit below the daemon's workers
reinstall advanced
pfc -F "$R/process_limit=1"
only "reinject process limit (daemon)" reinject-process-limit

# 11. the filter is down: mail waits in the queue
reinstall advanced
stop_daemon
only "filter down" filter-not-answering
: > "$(pf_log)"
check "filter down: submitted" send_msg "$TESTROOT/clean.eml" sender@example.com rcpt@example.net
check "filter down: deferred (connection refused)" pf_log_wait "status=deferred.*127.0.0.1\]:$FPORT.*refused|connect to 127.0.0.1\[127.0.0.1\]:$FPORT: Connection refused" 20
check "filter down: the message waits in the queue" test "$(pf_queue_count)" -eq 1
check "filter down: nothing delivered" test "$(sink_count)" -eq 0
drain
# a port that accepts but does not speak SMTP
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
while True:
    c, a = s.accept(); c.sendall(b"554 no service here\r\n"); c.close()' "$FPORT" &
HANG=$!
pf_wait_port "$FPORT" 10
only "filter that does not greet 220" filter-not-answering
kill "$HANG" 2>/dev/null; wait "$HANG" 2>/dev/null; HANG=
start_daemon
check "advanced: the daemon starts again" pf_wait_port "$FPORT" 1

# spawn(8) instead of the daemon
"$PP" remove -c "$PF_CONF" >>"$PF_DIR/install.log" 2>&1
stop_daemon
reinstall spawn -u "$FILTER_USER" -m 2
pf_wait_port "$FPORT" 10
clean "spawn"

# ================================================================ before-queue
"$PP" remove -c "$PF_CONF" >>"$PF_DIR/install.log" 2>&1
reinstall before-queue
start_daemon
check "before-queue: the daemon starts" pf_wait_port "$FPORT" 1
clean "before-queue"

# 10. FILTER in an access table of the proxied smtpd
reinstall before-queue
printf '127.0.0.0/8 FILTER smtp:[127.0.0.1]:%s\n' "$SINK_PORT" > "$PF_DIR/filter.cidr"
pfc -P "$S/smtpd_client_restrictions=check_client_access,cidr:$PF_DIR/filter.cidr"; reload
only "FILTER with smtpd_proxy_filter" proxy-filter-action
: > "$(pf_log)"
check "FILTER with smtpd_proxy_filter: submitted" send_msg "$TESTROOT/clean.eml" sender@example.com rcpt@example.net
check "FILTER with smtpd_proxy_filter: smtpd ignores the FILTER" \
	pf_log_wait 'with smtpd_proxy_filter specified, action FILTER is unavailable' 20
drain
pfc -PX "$S/smtpd_client_restrictions"

# the proxy time limit (Postfix's default 100s) below the filter's
reinstall before-queue
pfc -PX "$S/smtpd_proxy_timeout"
only "smtpd_proxy_timeout default" proxy-timeout

# smtpd_proxy_filter in main.cf reaches the reinjection smtpd: a loop
reinstall before-queue
pfc -e "smtpd_proxy_filter=127.0.0.1:$FPORT"
only "main.cf smtpd_proxy_filter" reinject-proxy-filter
pfc -X smtpd_proxy_filter

# 11. before the queue, the filter down
reinstall before-queue
stop_daemon
only "before-queue filter down" filter-not-answering

# before-queue with spawn(8)
"$PP" remove -c "$PF_CONF" >>"$PF_DIR/install.log" 2>&1
reinstall before-queue -s -u "$FILTER_USER" -m 2
pf_wait_port "$FPORT" 10
clean "before-queue -s"

# usage and unreadable instances
rc=0; "$PP" check -x >/dev/null 2>&1 || rc=$?
check "check -x: usage error (2)" test "$rc" -eq 2
rc=0; "$PP" check -c "$TESTROOT/nonexistent" >/dev/null 2>&1 || rc=$?
check "check of a missing instance: exit 2" test "$rc" -eq 2
check "check -v explains the checks that pass" \
	eval "'$PP' check -v -c '$PF_CONF' -p '$PS_CONF' | grep -q '^postsift-postfix: ok reinject-content-filter'"
"$PP" remove -c "$PF_CONF" >>"$PF_DIR/install.log" 2>&1

finish
