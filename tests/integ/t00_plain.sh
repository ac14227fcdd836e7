#!/bin/bash
# t00_plain - the harness itself, no filter: a private Postfix instance
# relays mail to its smtp-sink intact; a second instance runs beside it;
# mail to a dead sink stays deferred and goes out once the sink is back.

. "$(dirname "$0")/lib.sh"
need_root
plan 35
need_prog postfix postconf postqueue smtp-sink swaks nc

# same_body ORIG SINKFILE - the sink's copy has the original's body
same_body() { cmp -s <(msg_body "$1") <(sink_body "$2" | msg_body /dev/stdin); }

# has_header_of ORIG SINKFILE NAME - header NAME came through unchanged
has_header_of() {
	[ "$(msg_header "$1" "$3")" = "$(sink_body "$2" | msg_header /dev/stdin "$3")" ] &&
		[ -n "$(msg_header "$1" "$3")" ]
}

pf_new a
sink_start
pf_start
check "instance a runs" pf_running a
check "postfix check is clean" clean_check

# A plain message: envelope and body arrive intact.
mk_msg "$PF_DIR/plain.eml"
check "plain: smtp submission" send_msg "$PF_DIR/plain.eml" sender@example.com rcpt@example.net
check "plain: arrives at the sink" sink_wait 1 30
m=$(sink_messages | head -n 1)
check "plain: envelope recipient" test "$(sink_rcpts "$m")" = rcpt@example.net
check "plain: envelope sender" test "$(sink_sender "$m")" = sender@example.com
check "plain: body identical" same_body "$PF_DIR/plain.eml" "$m"
check "plain: Subject kept" has_header_of "$PF_DIR/plain.eml" "$m" Subject
check "plain: Message-ID kept" has_header_of "$PF_DIR/plain.eml" "$m" Message-ID
check "plain: queue empty" wait_queue_empty 10
check "plain: delivered once" test "$(sink_count)" -eq 1
sink_clear

# An attachment (a binary file, base64) and two recipients in one transaction.
mk_msg_attach "$PF_DIR/attach.eml" /usr/sbin/smtp-sink smtp-sink.bin
check "attach: smtp submission, 2 recipients" \
	send_msg "$PF_DIR/attach.eml" sender@example.com a@example.net b@example.org
check "attach: arrives" sink_wait 1 30
m=$(sink_messages | head -n 1)
check "attach: body identical" same_body "$PF_DIR/attach.eml" "$m"
check "attach: both recipients" \
	test "$(sink_rcpts "$m" | sort | tr '\n' ' ')" = "a@example.net b@example.org "
check "attach: decodes to the original file" \
	cmp -s /usr/sbin/smtp-sink <(sink_body "$m" | sed -n '/^Content-Disposition: attachment/,/^--=_postsift/p' |
		sed '1,/^$/d; /^--=_postsift/d' | base64 -d)
wait_queue_empty 10
sink_clear

# A second instance at the same time, with its own ports and sink.
pf_new b
sink_start
pf_start
check "instance b runs" pf_running b
check "instance a still runs" pf_running a
check "instances use different ports" test "$(pf_use a; echo "$PF_SMTP_PORT")" != "$PF_SMTP_PORT"
mk_msg "$PF_DIR/b.eml" "to instance b"
check "b: smtp submission" send_msg "$PF_DIR/b.eml" sender@example.com rcpt@example.net
check "b: arrives at b's sink" sink_wait 1 30 b
check "b: subject" test "$(sink_body "$(sink_messages b)" | msg_header /dev/stdin Subject)" = "to instance b"
check "b: nothing at a's sink" test "$(sink_count a)" -eq 0
check "b: logged in b's maillog" grep -q 'status=sent' "$(pf_log b)"
pf_stop b
check "b stopped, a runs" eval '! pf_running b && pf_running a'

# The sink is down: the message stays deferred, and goes out after the
# sink is back and the queue is flushed.
pf_use a
sink_stop
mk_msg "$PF_DIR/deferred.eml" "deferred then delivered"
check "deferred: smtp submission" send_msg "$PF_DIR/deferred.eml" sender@example.com late@example.net
check "deferred: logged as deferred" pf_log_wait 'to=<late@example.net>.*status=deferred' 30
check "deferred: postqueue shows it" eval 'pf_postqueue | grep -q late@example.net'
check "deferred: queue count 1" test "$(pf_queue_count)" -eq 1
check "deferred: nothing at the sink" test "$(sink_count)" -eq 0
sink_start
pf_flush
check "deferred: delivered after flush" sink_wait 1 30
check "deferred: queue empty" wait_queue_empty 10
m=$(sink_messages | head -n 1)
check "deferred: recipient" test "$(sink_rcpts "$m")" = late@example.net
check "deferred: body identical" same_body "$PF_DIR/deferred.eml" "$m"
check "deferred: logged as sent" pf_log_wait 'to=<late@example.net>.*status=sent' 5

finish
