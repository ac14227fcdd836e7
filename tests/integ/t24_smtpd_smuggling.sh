#!/bin/bash
# t24_smtpd_smuggling - SMTP smuggling (CVE-2023-51764 and kin) against
# postsift-filter -m smtpd, both as the daemon (-d) and as a spawn(8)
# service of a private Postfix. A raw client (tests/integ/smtpraw.py)
# sends one message whose body holds a non-standard end of data
# (<LF>.<LF>, <LF>.<CRLF>, <CR>.<CR>, <CRLF>.<LF>, <CR>.<CRLF>, <CR>.<LF>,
# <CRLF>.<CR>) followed by a smuggled "MAIL FROM/RCPT TO/DATA" and a second
# message, then the proper <CRLF>.<CRLF> and QUIT; once written at once,
# once one byte per write. For every session:
#   - the client gets exactly one final reply (220 250 250 250 354 250 221):
#     the smuggled commands were never taken as commands;
#   - what the filter sends downstream (recorded raw by a relay between the
#     filter and the 10026 smtpd) has one MAIL, only the real recipient, one
#     DATA, no bare CR and no bare LF anywhere, the smuggling dot line sent
#     stuffed ("..") and the smuggled text kept as data;
#   - the 10026 smtpd (smtpd_forbid_bare_newline=reject, no exclusions)
#     takes exactly one message: one queue id per session, the sink gets
#     it once, the smuggled recipient never gets anything.
# Finally, no "bare <LF>" or smuggling warning in Postfix's log, and a
# control session straight into the relay shows that both detectors (the
# byte checker and Postfix's own) do fire on a bare LF.

. "$(dirname "$0")/lib.sh"
need_root
VECTORS="lf-dot-lf lf-dot-crlf cr-dot-cr crlf-dot-lf cr-dot-crlf cr-dot-lf crlf-dot-cr"
# per vector, 2 targets x 2 modes: 11 checks of the session and 3 at the
# sink; 15 more
plan $(($(wc -w <<<"$VECTORS") * 2 * 2 * (11 + 3) + 15))
need_prog postfix postconf smtp-sink nc python3
getent passwd "$FILTER_USER" >/dev/null || die "no user $FILTER_USER (run scripts/install-deps)"
FILTER=$BUILD_DIR/bin/postsift-filter
[ -x "$FILTER" ] || die "no $FILTER (run make)"
RAW=$TOP/tests/integ/smtpraw.py
[ -r "$RAW" ] || die "no $RAW"

BG_PIDS=()
# Our relays must not outlive the test, whatever ends it (the daemon is
# ps_daemon_start's: lib.sh's cleanup kills it)
on_cleanup 'for p in "${BG_PIDS[@]}"; do pkill -KILL -P "$p"; kill -KILL "$p"; wait "$p"; done 2>/dev/null'

# relay_start NAME PORT - a recording relay on PORT to the 10026 smtpd;
# connections recorded in $PF_DIR/NAME/
relay_start() {
	mkdir -p "$PF_DIR/$1"
	python3 "$RAW" proxy "$2" "$PF_REINJECT_PORT" "$PF_DIR/$1" >"$PF_DIR/$1.out" 2>&1 &
	BG_PIDS+=("$!")
	wait_for 10 grep -q listening "$PF_DIR/$1.out" || die "relay $1 does not start: $(cat "$PF_DIR/$1.out")"
}

# ------------------------------------------------------------------ setup
pf_new sm
ps_conf
pf_reinject_service
# Postfix's own smuggling defence, as strict as it goes, and not waived
# for the loopback client (the default exclusion is $mynetworks).
pfc -P "127.0.0.1:$PF_REINJECT_PORT/inet/smtpd_forbid_bare_newline=reject" \
	"127.0.0.1:$PF_REINJECT_PORT/inet/smtpd_forbid_bare_newline_exclusions=" ||
	die "postconf -P"
DPORT=$(free_port)
SPORT=$(free_port)
RD=$(free_port)
RS=$(free_port)
# spawn(8) as "postsift-postfix install spawn" writes it (t20 tests the
# install itself), here reinjecting through the recording relay.
pfc -M "127.0.0.1:$SPORT/inet=127.0.0.1:$SPORT inet n n n - 4 spawn -o command_time_limit=1800s user=$FILTER_USER argv=$FILTER -m smtpd -c $PS_CONF -o reinject_target=[127.0.0.1]:$RS" ||
	die "postconf -M spawn"
sink_start
pf_start
pf_wait_port "$PF_REINJECT_PORT" 10 || die "no reinjection smtpd on $PF_REINJECT_PORT"
relay_start cap-daemon "$RD"
relay_start cap-spawn "$RS"

ps_daemon_start daemon -o "smtpd_listen=127.0.0.1:$DPORT" \
	-o "smtpd_pid_file=$PF_DIR/ps/daemon.pid" -o smtpd_workers=2 \
	-o "reinject_target=[127.0.0.1]:$RD"
wait_for 15 pf_wait_port "$DPORT" 1 || die "the daemon does not listen: $(tail -n 5 "$PS_LOG" "$PF_DIR/daemon.out")"
pf_wait_port "$SPORT" 10 || die "no spawn service on $SPORT"

for target in daemon:$DPORT spawn:$SPORT; do
	g=$(timeout 10 nc -w 5 127.0.0.1 "${target#*:}" </dev/null 2>/dev/null | head -n 1)
	[[ $g == 220* ]] || die "${target%%:*} on ${target#*:} greets with '$g': smtpd mode not ready"
done

# smtpd_ids - the queue ids the 10026 smtpd has logged (one per MAIL)
smtpd_ids() { grep -oE "postfix-sm/smtpd\[[0-9]+\]: [0-9A-F]+: client=" "$(pf_log)" | awk '{ print $2 }' | sort -u; }
# sink_index - "RCPT FILE" for every envelope recipient of every message
# at the sink, in $PF_DIR/sink.index (forks are slow: made once)
sink_index() {
	local f
	for f in $(sink_messages); do
		sink_rcpts "$f" | sed "s|\$| $f|"
	done > "$PF_DIR/sink.index"
}
# sink_for RCPT - sink files with RCPT among the envelope recipients
sink_for() { awk -v r="$1" '$1 == r { print $2 }' "$PF_DIR/sink.index"; }
# kv FILE KEY - a value printed by "smtpraw.py check"
kv() { sed -n "s/^$2=//p" "$1"; }

sessions=0
t0=$SECONDS
for target in daemon:$DPORT spawn:$SPORT; do
	name=${target%%:*}
	port=${target#*:}
	for v in $VECTORS; do
		for mode in whole bytes; do
			tag="$name $v $mode"
			rcpt=victim-$name-$v-$mode@example.net
			smug=smuggled-$name-$v-$mode@example.net
			out=$PF_DIR/$name-$v-$mode.replies
			timeout 60 python3 "$RAW" smuggle "$port" "$rcpt" "$smug" "$v" "$mode" >"$out" 2>&1
			sessions=$((sessions + 1))
			codes=$(cut -c1-3 "$out" | tr '\n' ' ')
			check "$tag: one message, replies 220 250 250 250 354 250 221 EOF (got: $codes)" \
				test "$codes" = "220 250 250 250 354 250 221 EOF "
			check "$tag: the final reply is the downstream's queue id" \
				grep -qE '^250 .*queued as [0-9A-F]+' "$out"
			caps=$(grep -lF -- "<$rcpt>" "$PF_DIR/cap-$name"/*.c2s 2>/dev/null)
			check "$tag: one downstream connection carries it" test "$(printf '%s' "$caps" | grep -c .)" -eq 1
			cap=$(printf '%s\n' "$caps" | head -n 1)
			[ -n "$cap" ] || cap=/dev/null
			python3 "$RAW" check "$cap" >"$out.check" 2>&1
			check "$tag: downstream: no bare CR" test "$(kv "$out.check" bare_cr)" = 0
			check "$tag: downstream: no bare LF" test "$(kv "$out.check" bare_lf)" = 0
			check "$tag: downstream: one MAIL" test "$(kv "$out.check" mail)" = 1
			check "$tag: downstream: only the real recipient" test "$(kv "$out.check" rcpt)" = "$rcpt"
			check "$tag: downstream: one DATA, properly ended" \
				eval "test \"\$(kv '$out.check' data)\" = 1 && test \"\$(kv '$out.check' unterminated)\" = 0"
			check "$tag: downstream: the dot line went out stuffed" test "$(kv "$out.check" stuffed_dot_lines)" = 1
			check "$tag: downstream: the smuggled text stayed data" test "$(kv "$out.check" smuggled_text)" = 1
			check "$tag: downstream: the 10026 smtpd queued one message on that connection" \
				test "$(grep -c 'queued as' "${cap%.c2s}.s2c" 2>/dev/null)" -eq 1
		done
	done
done
note "$sessions sessions in $((SECONDS - t0))s"

# Everything the 10026 smtpd accepted reaches the sink.
check "all: the queue empties" wait_queue_empty 60
check "all: the sink got $sessions messages" sink_wait "$sessions" 30
sleep 1
check "all: exactly $sessions messages at the sink" test "$(sink_count)" -eq "$sessions"
sink_index
n=$(smtpd_ids | wc -l)
check "all: the 10026 smtpd logged $sessions queue ids (got $n)" test "$n" -eq "$sessions"
n=$(grep -cE 'postfix-sm/cleanup\[[0-9]+\]: [0-9A-F]+: message-id=' "$(pf_log)")
check "all: cleanup made $sessions messages (got $n)" test "$n" -eq "$sessions"
for target in daemon spawn; do
	for v in $VECTORS; do
		for mode in whole bytes; do
			rcpt=victim-$target-$v-$mode@example.net
			smug=smuggled-$target-$v-$mode@example.net
			files=$(sink_for "$rcpt")
			check "sink $target $v $mode: the message arrived once" test "$(printf '%s' "$files" | grep -c .)" -eq 1
			check "sink $target $v $mode: with the smuggled text inside it" \
				grep -q 'the smuggled message' "${files:-/dev/null}"
			check "sink $target $v $mode: the smuggled recipient got nothing" test -z "$(sink_for "$smug")"
		done
	done
done
check "sink: nothing for any smuggled recipient" eval "! grep -q '^smuggled-' '$PF_DIR/sink.index'"
check "sink: every message has exactly one recipient" test "$(wc -l < "$PF_DIR/sink.index")" -eq "$sessions"
check "maillog: no delivery to any smuggled recipient" eval "! grep -q 'to=<smuggled-' '$(pf_log)'"
check "maillog: the smuggled sender never reached Postfix" eval "! grep -q 'from=<smuggler@' '$(pf_log)'"
check "maillog: no bare <LF> / bare newline / smuggling warning" \
	eval "! grep -iE 'bare <(LF|CR)>|bare newline|smuggl' '$(pf_log)'"
check "maillog: the 10026 smtpd rejected nothing" eval "! grep -E 'postfix-sm/smtpd\[[0-9]+\]: .*(reject|warning)' '$(pf_log)'"
check "postsift log: one clean verdict per session" \
	test "$(grep -c 'verdict=clean' "$PS_LOG")" -eq "$sessions"
check "postsift log: nothing for the smuggled recipients" eval "! grep -q 'smuggled-' '$PS_LOG'"

# Control: the same smuggling payload straight into a recording relay (no
# filter): the byte checker sees the bare LF, and Postfix logs it.
timeout 30 python3 "$RAW" smuggle "$RD" control@example.net smuggled-control@example.net lf-dot-lf whole \
	>"$PF_DIR/control.replies" 2>&1
note "control replies: $(tr '\n' ' ' <"$PF_DIR/control.replies")"
cap=$(grep -lF '<control@example.net>' "$PF_DIR/cap-daemon"/*.c2s 2>/dev/null | head -n 1)
python3 "$RAW" check "${cap:-/dev/null}" >"$PF_DIR/control.check" 2>&1
check "control: the checker counts the raw client's bare LF" test "$(kv "$PF_DIR/control.check" bare_lf)" -ge 2
check "control: Postfix logs bare <LF> for it" pf_log_wait 'bare <LF> received' 10

finish
