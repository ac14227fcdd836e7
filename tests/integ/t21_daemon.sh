#!/bin/bash
# t21_daemon - postsift-filter -m smtpd -d -F, the preforking daemon: pid
# file, privileges (master and workers run as the postsift user), the
# number of workers, recycling after smtpd_max_sessions, a killed worker
# replaced, a second daemon on the same pid file refused, an occupied port
# refused, IPv6 [::1], SIGHUP reloads while connections are being made (no
# refused connection, every greeting 220), a new signature file picked up after signature_check_interval,
# and SIGTERM: drain, exit 0, pid file gone. Also mail end to end
# through the daemon (Postfix content_filter -> daemon -> reinjection
# smtpd -> sink), the new signature detected, and a transaction in
# progress at SIGTERM completed. The machine needs ::1 on lo (the daemon
# listens there too).

. "$(dirname "$0")/lib.sh"
need_root
plan 60
need_prog postfix postconf smtp-sink swaks pgrep ps
getent passwd "$FILTER_USER" >/dev/null || die "no user $FILTER_USER (run scripts/install-deps)"
FILTER=$BUILD_DIR/bin/postsift-filter
[ -x "$FILTER" ] || die "no $FILTER (run make)"

# nworkers_is PID N / reloads_at_least N - conditions for wait_for, which
# must re-evaluate them on every try
nworkers_is() { [ "$(nworkers "$1")" -eq "$2" ]; }
reloads_at_least() {
	[ "$(grep -cE 'signatures reloaded: [0-9]+ signatures in [0-9]+\.[0-9][0-9]s' "$PS_LOG")" -ge "$1" ]
}

# workers PID - the worker pids of master PID, sorted, on one line
workers() { pgrep -P "$1" | sort -n | tr '\n' ' '; }

# nworkers PID - how many
nworkers() { pgrep -P "$1" | wc -l; }

# greet HOST PORT - the daemon's first reply line (or REFUSED / NONE);
# says QUIT and waits for the answer, so a session ends cleanly
greet() {
	local line
	exec 3<>"/dev/tcp/$1/$2" 2>/dev/null || { echo REFUSED; return; }
	if read -t 10 -r line <&3; then
		printf 'QUIT\r\n' >&3 2>/dev/null
		timeout 5 cat <&3 >/dev/null 2>&1
		echo "${line%$'\r'}"
	else
		echo NONE
	fi
	exec 3>&- 3<&-
}

# cloexec_sockets PID - every socket PID holds has O_CLOEXEC (fdinfo flags)
cloexec_sockets() {
	local fd flags n=0
	for fd in /proc/"$1"/fd/*; do
		[[ $(readlink "$fd") == socket:* ]] || continue
		flags=$(awk '/^flags:/ { print $2 }' "/proc/$1/fdinfo/${fd##*/}")
		(( (8#$flags & 8#2000000) != 0 )) || return 1
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
}

# answered LINE - an SMTP reply code
answered() { [[ $1 =~ ^[2-5][0-9][0-9][\ -] ]]; }

# smtp_reply - read one (multi-line) reply from fd 3; its last line in REPLY_LINE
smtp_reply() {
	local line
	REPLY_LINE=
	while read -t 30 -r line <&3; do
		line=${line%$'\r'}
		REPLY_LINE=$line
		[[ $line =~ ^[0-9][0-9][0-9]-  ]] || return 0
	done
	REPLY_LINE="NONE"
	return 1
}

# smtp_cmd LINE - send a command on fd 3, read the reply
smtp_cmd() { printf '%s\r\n' "$1" >&3; smtp_reply; }

# logged REGEX [TIMEOUT] - wait for an extended regex in postsift's log
logged() { wait_for "${2:-5}" grep -qE -- "$1" "$PS_LOG"; }

# ------------------------------------------------------------------ setup
pf_new dm
ps_conf
pf_reinject_service
sink_start
pf_start
DPORT=$(free_port)
RUN=$PF_DIR/run/postsift
PIDF=$RUN/postsift-filter.pid
mkdir -p "$PF_DIR/dsigs"
cp "$TESTROOT/sigs/"* "$PF_DIR/dsigs/"
chmod -R go+rX "$PF_DIR/dsigs"
LISTEN="127.0.0.1:$DPORT, [::1]:$DPORT"

ps_daemon_start main -o "smtpd_listen=$LISTEN" -o "smtpd_pid_file=$PIDF" \
	-o smtpd_workers=3 -o smtpd_max_sessions=2 -o signature_check_interval=1s \
	-o "clamav_database_directory=$PF_DIR/dsigs" \
	-o "reinject_target=[127.0.0.1]:$PF_REINJECT_PORT"
MAIN=$DPID
wait_for 15 pf_wait_port "$DPORT" 1 || die "the daemon does not listen: $(tail -n 5 "$PS_LOG" "$PF_DIR/main.out")"

# --- start-up: pid file, privileges, workers -------------------------------
check "start: pid file holds the master's pid" test "$(cat "$PIDF" 2>/dev/null)" = "$MAIN"
check "start: pid file directory created for $FILTER_USER" \
	test "$(stat -c %U "$RUN")" = "$FILTER_USER"
check "start: initial load logged" logged 'signatures loaded: [0-9]+ signatures in [0-9]+\.[0-9][0-9]s'
check "start: started line" logged "daemon started: pid $MAIN, user $FILTER_USER, listening on 127\.0\.0\.1:$DPORT"
check "start: 3 workers" wait_for 5 nworkers_is "$MAIN" 3
check "start: master runs as $FILTER_USER" test "$(ps -o user= -p "$MAIN")" = "$FILTER_USER"
check "start: every worker runs as $FILTER_USER" \
	test "$(ps -o user= --ppid "$MAIN" | sort -u | tr -d ' \n')" = "$FILTER_USER"
check "start: no process of ours has root in any uid" \
	eval "! grep -h '^Uid:' /proc/$MAIN/status $(for p in $(workers "$MAIN"); do printf '/proc/%s/status ' "$p"; done) | grep -qw 0"
check "start: the master's sockets are close-on-exec" cloexec_sockets "$MAIN"
check "start: a worker's sockets are close-on-exec" cloexec_sockets "$(pgrep -P "$MAIN" | head -n 1)"

G=$(greet 127.0.0.1 "$DPORT")
note "greeting: $G"
# greets_220 - the first greeting was 220
greets_220() { [[ $G == 220* ]]; }
check "start: a connection is answered with 220" greets_220

# --- recycling after smtpd_max_sessions -----------------------------------
before=$(workers "$MAIN")
# originals_left - a worker of $before still runs
originals_left() {
	comm -12 <(tr ' ' '\n' <<<"$before" | sed '/^$/d' | sort) \
		<(tr ' ' '\n' <<<"$(workers "$MAIN")" | sed '/^$/d' | sort) | grep -q .
}
# Which worker accepts a connection is the kernel's choice: connect until
# every first-generation worker has served its 2 sessions (at most 30).
bad=0 n=0
while [ "$n" -lt 12 ] || { [ "$n" -lt 30 ] && originals_left; }; do
	answered "$(greet 127.0.0.1 "$DPORT")" || bad=$((bad + 1))
	n=$((n + 1))
done
note "$n connections"
check "recycle: $n connections over 3 workers x 2 sessions all answered" test "$bad" -eq 0
check "recycle: back to 3 workers" wait_for 5 nworkers_is "$MAIN" 3
after=$(workers "$MAIN")
check "recycle: the workers were replaced" test "$before" != "$after"
check "recycle: no worker left that served before" \
	eval "! comm -12 <(tr ' ' '\n' <<<'$before' | sed '/^$/d' | sort) <(tr ' ' '\n' <<<'$after' | sed '/^$/d' | sort) | grep -q ."
check "recycle: no warning about the replacements" \
	eval "! grep -E 'worker [0-9]+ (killed|exited with)' '$PS_LOG'"

# --- a killed worker is replaced -------------------------------------------
victim=$(pgrep -P "$MAIN" | head -n 1)
kill -KILL "$victim"
check "kill: the death is logged" logged "worker $victim killed by signal 9"
check "kill: replaced, 3 workers again" wait_for 5 nworkers_is "$MAIN" 3
check "kill: the dead one is gone" eval "! pgrep -P $MAIN | grep -qx $victim"
check "kill: connections still answered" answered "$(greet 127.0.0.1 "$DPORT")"

# --- a second daemon on the same pid file, an occupied port ---------------
rc=0
"$FILTER" -m smtpd -d -F -c "$PS_CONF" -o "smtpd_listen=127.0.0.1:$(free_port)" \
	-o "smtpd_pid_file=$PIDF" >"$PF_DIR/second.out" 2>&1 || rc=$?
check "second daemon on the same pid file: refused (exit $rc)" test "$rc" -ne 0
check "second daemon: says who holds the pid file" \
	logged "another postsift-filter daemon \(pid $MAIN\) holds $PIDF: not starting"
check "second daemon: pid file untouched" test "$(cat "$PIDF")" = "$MAIN"
rc=0
"$FILTER" -m smtpd -d -F -c "$PS_CONF" -o "smtpd_listen=127.0.0.1:$DPORT" \
	-o "smtpd_pid_file=$RUN/other.pid" >"$PF_DIR/busy.out" 2>&1 || rc=$?
check "occupied port: refused (exit $rc)" test "$rc" -ne 0
check "occupied port: clear error" \
	logged "fatal: smtpd_listen: cannot bind 127\.0\.0\.1:$DPORT: Address already in use"
check "occupied port: its pid file is removed" test ! -e "$RUN/other.pid"
check "occupied port: the first daemon still serves" answered "$(greet 127.0.0.1 "$DPORT")"

# --- non-root start: daemon_user must be us ------------------------------
rc=0
runuser -u "$FILTER_USER" -- "$FILTER" -m smtpd -d -F -c "$PS_CONF" \
	-o "smtpd_listen=127.0.0.1:$(free_port)" -o "smtpd_pid_file=$PF_DIR/ps/nr.pid" \
	-o daemon_user=nobody >"$PF_DIR/nonroot.out" 2>&1 || rc=$?
check "non-root start with another daemon_user: refused (exit $rc)" test "$rc" -ne 0
check "non-root start: says why" logged "not root: cannot become daemon_user nobody"

# --- IPv6 -----------------------------------------------------------------
check "ipv6: [::1] answered" answered "$(greet ::1 "$DPORT")"
check "ipv6: listed in the started line" logged "listening on 127\.0\.0\.1:$DPORT, \[::1\]:$DPORT"

# --- SIGHUP reload under load ---------------------------------------------
# A client loop connects as fast as it can while the master reloads twice;
# no connection may be refused or left unanswered, and every greeting must
# be 220.
gens_before=$(workers "$MAIN")
reloads_before=$(grep -c 'signatures reloaded:' "$PS_LOG")
(
	end=$((SECONDS + 4))
	while [ "$SECONDS" -lt "$end" ]; do
		greet 127.0.0.1 "$DPORT"
	done
) > "$PF_DIR/hup.greetings" &
loop=$!
sleep 1
kill -HUP "$MAIN"
sleep 1.2
kill -HUP "$MAIN"
wait "$loop"
total=$(wc -l < "$PF_DIR/hup.greetings")
note "reload under load: $total connections, $(sort "$PF_DIR/hup.greetings" | uniq -c | tr '\n' ';')"
check "reload: connections were made during the reloads" test "$total" -ge 20
check "reload: zero refused connections" eval "! grep -q '^REFUSED' '$PF_DIR/hup.greetings'"
check "reload: zero unanswered connections" eval "! grep -q '^NONE' '$PF_DIR/hup.greetings'"
check "reload: every greeting 220 (zero 4xx)" eval "! grep -qv '^220' '$PF_DIR/hup.greetings'"
check "reload: logged twice with the count and the time" \
	wait_for 5 reloads_at_least $((reloads_before + 2))
check "reload: a new generation of 3 workers" wait_for 5 nworkers_is "$MAIN" 3
check "reload: none of the old workers left" \
	eval "! comm -12 <(tr ' ' '\n' <<<'$gens_before' | sed '/^$/d' | sort) <(workers $MAIN | tr ' ' '\n' | sed '/^$/d' | sort) | grep -q ."

# --- a bad configuration on reload keeps the old one ----------------------
cp "$PS_CONF" "$PF_DIR/postsift.conf.good"
echo "no_such_setting = 1" >> "$PS_CONF"
kill -HUP "$MAIN"
check "bad reload: logged, old settings kept" \
	logged 'reload: configuration error: .*no_such_setting.*keeping the old settings and signatures'
cp "$PF_DIR/postsift.conf.good" "$PS_CONF"
check "bad reload: still 3 workers, still answering" \
	eval "test \$(nworkers $MAIN) -eq 3 && answered \"\$(greet 127.0.0.1 $DPORT)\""

# --- end to end ---------------------------------------------------------------
NEWSIG=postsift-t21-new-signature-$RANDOM$RANDOM
pfc -M "scan/unix=scan unix - - n - 4 smtp -o smtp_send_xforward_command=yes -o disable_mime_output_conversion=yes -o smtp_connection_cache_on_demand=no"
pfc -e "content_filter = scan:[127.0.0.1]:$DPORT"
pf_reload
mk_msg "$PF_DIR/e2e.eml" "through the daemon"
check "e2e: submitted" send_msg "$PF_DIR/e2e.eml" sender@example.com e2e@example.net
check "e2e: delivered through the daemon" sink_wait 1 30
m=$(sink_messages | head -n 1)
check "e2e: X-Virus-Scanned added" grep -q '^X-Virus-Scanned: postsift ' "${m:-/dev/null}"
sink_clear
printf 'From: a@example.com\nTo: b@example.net\nSubject: new sig\n\n%s\n' "$NEWSIG" > "$PF_DIR/newsig.eml"
check "newsig: submitted before the signature exists" \
	send_msg "$PF_DIR/newsig.eml" sender@example.com before@example.net
check "newsig: clean before" logged "verdict=clean, .*to=<before@example.net>" 30

# --- a new signature file is picked up ------------------------------------
reloads_before=$(grep -c 'signatures reloaded:' "$PS_LOG")
printf 'Postsift-T21-New:0:*:%s\n' "$(printf '%s' "$NEWSIG" | od -An -v -tx1 | tr -d ' \n')" \
	> "$PF_DIR/dsigs/new.ndb"
chmod 644 "$PF_DIR/dsigs/new.ndb"
check "newsig: change noticed" logged 'reload \(signatures changed\)' 10
check "newsig: reloaded with one signature more" \
	logged 'signatures reloaded: 3 signatures in' 10
check "newsig: submitted after the reload" \
	send_msg "$PF_DIR/newsig.eml" sender@example.com after@example.net
check "newsig: detected" logged "verdict=infected, .*Postsift-T21-New.*to=<after@example.net>" 30

# --- SIGTERM drains ----------------------------------------------------------
# A transaction in progress when SIGTERM arrives completes (or gets 4xx),
# never lost: the sink gets it or the client knows it failed.
sink_clear
exec 3<>"/dev/tcp/127.0.0.1/$DPORT"
smtp_reply
smtp_cmd "EHLO drain.postsift.test"
smtp_cmd "MAIL FROM:<sender@example.com>"
smtp_cmd "RCPT TO:<drain@example.net>"
smtp_cmd "DATA"
check "drain: DATA accepted before SIGTERM" eval "[[ '$REPLY_LINE' == 354* ]]"
printf 'Subject: drain\r\n\r\nfirst half\r\n' >&3
kill -TERM "$MAIN"
sleep 0.5
printf 'second half\r\n.\r\n' >&3
smtp_reply
final=$REPLY_LINE
smtp_cmd "QUIT"
exec 3>&- 3<&-
note "drain: final reply: $final"
check "drain: the message completed or got 4xx" eval "[[ '$final' == 250* || '$final' == 4* ]]"
# arrived_if_accepted - a message the daemon took (250) reaches the sink
arrived_if_accepted() { [[ $final != 250* ]] || sink_wait 1 20; }
check "drain: a message taken with 250 arrives" arrived_if_accepted

# (already signalled: a second SIGTERM would kill the workers at once)
wait_for 20 eval "! kill -0 $MAIN 2>/dev/null"
rc=0
ps_daemon_stop "$MAIN" || rc=$?
check "stop: exit status 0" test "$rc" -eq 0
check "stop: pid file removed" test ! -e "$PIDF"
check "stop: drain and stop logged" \
	eval "grep -q 'stopping: draining' '$PS_LOG' && grep -q 'daemon stopped' '$PS_LOG'"
check "stop: no worker left" test -z "$(ps -o pid= --ppid "$MAIN")"
check "stop: the port is free again" eval "! nc -z 127.0.0.1 $DPORT"

# A log_file that does not exist yet is created while we are root: it
# must end up owned by daemon_user, or a reload could not reopen it.
NEWLOG=$PF_DIR/fresh.log
ps_daemon_start fresh -o "smtpd_listen=127.0.0.1:$DPORT" -o "smtpd_pid_file=$PIDF" \
	-o smtpd_workers=1 -o "log_file=$NEWLOG" \
	-o "reinject_target=[127.0.0.1]:$PF_REINJECT_PORT"
FRESH=$DPID
fresh_started() { grep -q 'daemon started' "$NEWLOG" 2>/dev/null; }
fresh_reloaded() { grep -q 'signatures reloaded' "$NEWLOG" 2>/dev/null; }
check "log_file: the daemon starts and logs there" wait_for 20 fresh_started
check "log_file: created owned by $FILTER_USER" test "$(stat -c %U "$NEWLOG" 2>/dev/null)" = "$FILTER_USER"
kill -HUP "$FRESH"
check "log_file: the reload is logged there too" wait_for 20 fresh_reloaded
ps_daemon_stop "$FRESH" 20

finish
