#!/bin/bash
# t02_postfix_install - scripts/postsift-postfix: "install simple" wires a
# filter into a running private instance (mail goes through it once, the
# reinjection smtpd does not filter again), "remove" leaves postconf -n,
# -M and -P exactly as before, and bad input changes nothing.
#
# The filter is a stand-in (-b takes any executable): it records its
# arguments and reinjects with sendmail -C, which proves the pipe(8)
# entry and its ${...} macros without depending on postsift-filter.

. "$(dirname "$0")/lib.sh"
need_root
plan 68
need_prog postfix postconf smtp-sink swaks diff
getent passwd "$FILTER_USER" >/dev/null || die "no user $FILTER_USER (run scripts/install-deps)"

same_body() { cmp -s <(msg_body "$1") <(sink_body "$2" | msg_body /dev/stdin); }
# send_reinject FILE SENDER RCPT... - send_msg to the reinjection smtpd
send_reinject() { local PF_SMTP_PORT=$PF_REINJECT_PORT; send_msg "$@"; }


pf_new pi
sink_start
pf_start

# The stand-in filter and its configuration.
mkdir "$PF_DIR/fake"
chown "$FILTER_USER" "$PF_DIR/fake"
fake=$PF_DIR/fake-filter
cat > "$fake" <<'EOF'
#!/bin/sh
# stand-in for postsift-filter -m pipe: log argv, reinject with sendmail
dir=$(dirname "$0")
printf '%s\n' "$@" > "$dir/fake/args.$$"
conf= sender=
while [ $# -gt 0 ]; do
	case $1 in
	-c) conf=$2; shift 2 ;;
	-f) sender=$2; shift 2 ;;
	--) shift; break ;;
	*) shift ;;
	esac
done
cfg=$(sed -n 's/^sendmail_config_directory *= *//p' "$conf")
exec /usr/sbin/sendmail -C "$cfg" -G -i -f "$sender" -- "$@"
EOF
chmod 755 "$fake"
conf=$PF_DIR/postsift.conf
printf 'reinject_target = sendmail\nsendmail_config_directory = %s\n' "$PF_CONF" > "$conf"
chmod 644 "$conf"

# Round 1: a plain instance.
snap "$PF_DIR/before.snap"
check "install simple" pp_rc 0 install simple -c "$PF_CONF" -u "$FILTER_USER" -p "$conf" \
	-b "$fake" -r "$PF_REINJECT_PORT" -l "$PF_SMTP_PORT"
check "install prints its postconf commands" grep -q "postconf -c $PF_CONF -M" "$PF_DIR/pp.out"
check "install reloads the running instance" grep -q "reload" "$PF_DIR/pp.out"
check "state saved" test -s "$PF_CONF/postsift-postfix.saved"
check "pipe service added" eval "pfc -M postsift/unix | grep -q 'pipe -o pipe_delivery_status_filter=regexp:$TOP/conf/pipe_status_filter flags=Rq user=$FILTER_USER null_sender= argv=$fake -m pipe -c $conf'"
check "pipe argv has the macros" eval "pfc -M postsift/unix | grep -qF -- '-q \${queue_id} -X addr=\${client_address} -X helo=\${client_helo} -X name=\${client_hostname} -X proto=\${client_protocol} -O=\${original_recipient} -f \${sender} -- \${recipient}'"
check "pipe argv has the reinject port" eval "pfc -M postsift/unix | grep -qF -- '-o reinject_target=[127.0.0.1]:$PF_REINJECT_PORT'"
check "reinjection smtpd added" eval "pfc -M 127.0.0.1:$PF_REINJECT_PORT/inet | grep -q 'smtpd -o content_filter= -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks,no_milters'"
check "content_filter on the listening smtpd" test "$(pfc -Ph "$PF_SMTP_PORT/inet/content_filter" 2>/dev/null)" = postsift:dummy
check "main.cf content_filter untouched" test -z "$(pfc -nh content_filter 2>/dev/null)"
check "postfix check clean after install" clean_check
check "install twice refused" pp_rc 1 install simple -c "$PF_CONF" -u "$FILTER_USER" -p "$conf" -b "$fake"
check "refusal says why" grep -q "already installed" "$PF_DIR/pp.out"

pf_wait_port "$PF_REINJECT_PORT" 10
mk_msg "$PF_DIR/m1.eml" "through the installed filter"
check "mail: submission" send_msg "$PF_DIR/m1.eml" sender@example.com rcpt@example.net
check "mail: arrives" sink_wait 1 30
check "mail: queue empty" wait_queue_empty 20
sleep 1
check "mail: arrives once" test "$(sink_count)" -eq 1
check "mail: body identical" same_body "$PF_DIR/m1.eml" "$(sink_messages | head -n 1)"
check "mail: went through the pipe service" \
	pf_log_wait 'to=<rcpt@example.net>, relay=postsift, .*status=sent' 5
args=$(cat "$PF_DIR"/fake/args.* 2>/dev/null | tr '\n' ' ')
qid=$(sed -n 's/.*postfix-pi\/smtpd\[[0-9]*\]: \([0-9A-F]*\): client=.*/\1/p' "$(pf_log)" | head -n 1)
check "argv: mode and config" eval "[[ '$args' == '-m pipe -c $conf '* ]]"
check "argv: queue id" eval "[[ '$args' == *'-q $qid '* ]]"
check "argv: client address" eval "[[ '$args' == *'-X addr=127.0.0.1 '* ]]"
check "argv: helo" eval "[[ '$args' == *'-X helo=client.postsift.test '* ]]"
check "argv: protocol" eval "[[ '$args' == *'-X proto=ESMTP '* ]]"
check "argv: envelope" eval "[[ '$args' == *'-f sender@example.com -- rcpt@example.net ' ]]"
sink_clear

# The reinjection smtpd delivers without filtering again.
n_pipe=$(grep -c 'relay=postsift,' "$(pf_log)")
mk_msg "$PF_DIR/m2.eml" "straight to the reinjection smtpd"
check "reinject port: submission" send_reinject "$PF_DIR/m2.eml" sender@example.com r2@example.net
check "reinject port: arrives" sink_wait 1 30
check "reinject port: queue empty" wait_queue_empty 20
check "reinject port: not filtered" test "$(grep -c 'relay=postsift,' "$(pf_log)")" -eq "$n_pipe"
sink_clear

check "remove" pp_rc 0 remove -c "$PF_CONF"
check "remove restores postconf -n, -M, -P" same_conf "$PF_DIR/before.snap"
check "saved state deleted" test ! -e "$PF_CONF/postsift-postfix.saved"
check "remove twice refused" pp_rc 1 remove -c "$PF_CONF"
mk_msg "$PF_DIR/m3.eml" "after remove"
n_pipe=$(grep -c 'relay=postsift,' "$(pf_log)")
check "after remove: submission" send_msg "$PF_DIR/m3.eml" sender@example.com r3@example.net
check "after remove: arrives" sink_wait 1 30
check "after remove: not filtered (reloaded)" test "$(grep -c 'relay=postsift,' "$(pf_log)")" -eq "$n_pipe"
wait_queue_empty 20
sink_clear

# Round 2: values that existed before install come back on remove.
pfc -P "$PF_SMTP_PORT/inet/content_filter=other:dummy"
pfc -e "postsift_destination_recipient_limit = 5"
snap "$PF_DIR/before2.snap"
check "install -1 over existing values" pp_rc 0 install simple -1 -c "$PF_CONF" -u "$FILTER_USER" \
	-p "$conf" -b "$fake" -l "$PF_SMTP_PORT"
check "-1 sets the recipient limit" test "$(pfc -nh postsift_destination_recipient_limit 2>/dev/null)" = 1
check "content_filter replaced" test "$(pfc -Ph "$PF_SMTP_PORT/inet/content_filter" 2>/dev/null)" = postsift:dummy
check "default reinjection port 10026" eval "pfc -M 127.0.0.1:10026/inet | grep -q smtpd"
check "no reinject_target override without -r" eval "! pfc -M postsift/unix | grep -q reinject_target"
check "remove (round 2)" pp_rc 0 remove -c "$PF_CONF"
check "round 2 restored exactly" same_conf "$PF_DIR/before2.snap"
check "old content_filter back" test "$(pfc -Ph "$PF_SMTP_PORT/inet/content_filter" 2>/dev/null)" = other:dummy
check "old recipient limit back" grep -qx "postsift_destination_recipient_limit = 5" "$PF_CONF/main.cf"

# Bad input: the right exit status, a message, and no change at all.
snap "$PF_DIR/before3.snap"
c=(-c "$PF_CONF")
good=(-u "$FILTER_USER" -p "$conf" -b "$fake" -l "$PF_SMTP_PORT")
check "no mode: 2" pp_rc 2
check "unknown mode: 2" pp_rc 2 frobnicate
check "install without design: 2" pp_rc 2 install
check "unknown design: 2" pp_rc 2 install frobnicate "${c[@]}"
check "unknown option: 2" pp_rc 2 install simple -Z "${c[@]}" "${good[@]}"
check "bad port: 2" pp_rc 2 install simple "${c[@]}" "${good[@]}" -r 12ab
check "port out of range: 2" pp_rc 2 install simple "${c[@]}" "${good[@]}" -r 70000
check "extra argument: 2" pp_rc 2 remove "${c[@]}" extra
check "missing config dir: 1" pp_rc 1 install simple -c /nonexistent/postfix "${good[@]}"
check "config dir without main.cf: 1" pp_rc 1 install simple -c "$PF_DIR/fake" "${good[@]}"
check "unknown user: 1" pp_rc 1 install simple "${c[@]}" "${good[@]}" -u no-such-user-xyz
check "root user: 1" pp_rc 1 install simple "${c[@]}" "${good[@]}" -u root
check "mail_owner user: 1" pp_rc 1 install simple "${c[@]}" "${good[@]}" -u "$(pfc -h mail_owner)"
check "missing filter: 1" pp_rc 1 install simple "${c[@]}" "${good[@]}" -b /nonexistent/postsift-filter
check "relative filter path: 1" pp_rc 1 install simple "${c[@]}" "${good[@]}" -b fake-filter
check "missing postsift.conf: 1" pp_rc 1 install simple "${c[@]}" "${good[@]}" -p /nonexistent.conf
check "unknown listen service: 1" pp_rc 1 install simple "${c[@]}" "${good[@]}" -l 1
check "listen service not smtpd: 1" pp_rc 1 install simple "${c[@]}" "${good[@]}" -l pickup/unix
pfc -M "127.0.0.1:10026/inet=127.0.0.1:10026 inet n - n - - smtpd"
check "existing reinject service: 1" pp_rc 1 install simple "${c[@]}" "${good[@]}"
pfc -MX "127.0.0.1:10026/inet"
check "not installed, remove: 1" pp_rc 1 remove "${c[@]}"
check "bad input changed nothing" same_conf "$PF_DIR/before3.snap"
check "bad input left no saved state" test ! -e "$PF_CONF/postsift-postfix.saved"
pfc -X postsift_destination_recipient_limit 2>/dev/null
pfc -PX "$PF_SMTP_PORT/inet/content_filter"
check "postfix check clean at the end" clean_check

finish
