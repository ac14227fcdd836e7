# checklib.sh - sourced by the "postsift-postfix check" tests (t30_check,
# t32_check_harm): the harness (lib.sh), the programs they need, and the
# helpers that seed one mistake at a time into a fresh install and run
# check. Not a test itself (tests/run runs t*.sh only).

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root
need_prog postfix postconf postmap smtp-sink swaks nc python3 timeout
getent passwd "$FILTER_USER" >/dev/null || die "no user $FILTER_USER (run scripts/install-deps)"
FILTER=$BUILD_DIR/bin/postsift-filter
[ -x "$FILTER" ] || die "no $FILTER (run make)"
[ -x "$BUILD_DIR/bin/postsift-check" ] || die "no $BUILD_DIR/bin/postsift-check (run make)"

DAEMON=
HANG=
# The hanging listener must not outlive the test (the harness stops the
# daemons that ps_daemon_start started).
on_cleanup 'if [ -n "$HANG" ]; then kill "$HANG" 2>/dev/null; wait "$HANG" 2>/dev/null; HANG=; fi'

# start_daemon - the postsift-filter daemon of the current instance (-F)
start_daemon() {
	wait_for 10 eval "! nc -z 127.0.0.1 $FPORT"
	ps_daemon_start daemon
	DAEMON=$DPID
	pf_wait_port "$FPORT" 15 && return 0
	# Say why in the log: what the daemon printed, who holds the port.
	note "the daemon does not listen on $FPORT after 15 s"
	sed 's/^/    daemon: /' "$PF_DIR/daemon.out" 2>/dev/null | tail -n 20
	ss -tanp 2>/dev/null | grep ":$FPORT " | sed 's/^/    ss: /'
	return 1
}
# stop_daemon - SIGTERM, then make sure it is gone
stop_daemon() {
	[ -n "${DAEMON:-}" ] || return 0
	ps_daemon_stop "$DAEMON" >/dev/null 2>&1
	DAEMON=
}

# run_check - postsift-postfix check of the current instance; output in
# $PF_DIR/check.out, exit status in CRC, the finding ids in IDS (sorted)
run_check() {
	CRC=0
	"$PP" check -c "$PF_CONF" -p "$PS_CONF" > "$PF_DIR/check.out" 2>&1 || CRC=$?
	IDS=$(sed -n 's/^postsift-postfix: \([a-z][a-z-]*\): .* -- .*; fix: .*/\1/p' "$PF_DIR/check.out" | sort -u | tr '\n' ' ')
	IDS=${IDS% }
}
# clean NAME - check finds nothing: exit 0, no finding line
clean() {
	run_check
	if [ "$CRC" -eq 0 ] && [ -z "$IDS" ]; then
		ok "$1: check is clean"
	else
		fail "$1: check is clean" "exit $CRC, findings '$IDS'"
		sed 's/^/    /' "$PF_DIR/check.out"
	fi
}
# only NAME ID - check exits 1 and reports ID and nothing else
only() {
	run_check
	if [ "$CRC" -eq 1 ] && [ "$IDS" = "$2" ]; then
		ok "$1: check reports $2 only"
		grep "^postsift-postfix: $2: " "$PF_DIR/check.out" | head -n 1 | sed 's/^/    /'
	else
		fail "$1: check reports $2 only" "exit $CRC, findings '$IDS'"
		sed 's/^/    /' "$PF_DIR/check.out"
	fi
}
# reinstall DESIGN ARGS... - remove what is installed, undo the main.cf
# seeds, install DESIGN afresh (the case starts from a clean install)
reinstall() {
	local design=$1
	shift
	[ ! -e "$PF_CONF/postsift-postfix.saved" ] || "$PP" remove -c "$PF_CONF" >>"$PF_DIR/install.log" 2>&1
	pfc -X content_filter header_checks smtpd_milters postsift_time_limit \
		postsift_destination_recipient_limit smtpd_proxy_filter 2>/dev/null
	case $design in
	simple) ps_install ;;
	*) "$PP" install "$design" -c "$PF_CONF" -p "$PS_CONF" -b "$FILTER" \
		-r "$PF_REINJECT_PORT" -P "$FPORT" -l "$PF_SMTP_PORT" "$@" >>"$PF_DIR/install.log" 2>&1 ;;
	esac || die "install $design failed: $(tail -n 5 "$PF_DIR/install.log")"
	# a master that died on the reload would fail every later case slowly
	pf_running || die "the Postfix instance stopped: $(grep -E 'fatal|panic' "$(pf_log)" | tail -n 3)"
	pf_wait_port "$PF_REINJECT_PORT" 10
}
# reload - make a seeded change take effect
reload() { pf_reload; sleep 1; }
# pipe_cmd SED - edit the command of the postsift pipe service
pipe_cmd() { pfc -F "postsift/unix/command=$(pfc -Fh postsift/unix/command | sed "$1")"; }
# loop_deferred - postsift defers a message that came back too often
loop_deferred() { wait_for 40 grep -q 'mail forwarding loop' "$PS_LOG"; }
# daemon_conf [name=value...] - postsift.conf for the daemon of the
# current instance on $FPORT, 2 workers, plus the settings given
daemon_conf() {
	ps_conf "smtpd_listen=127.0.0.1:$FPORT" smtpd_workers=2 "smtpd_pid_file=$PF_DIR/ps/daemon.pid" "$@"
}
# daemon_instance NAME [name=value...] - a new instance with a sink and the
# postsift-filter daemon (daemon_conf with the settings given), installed
# as the advanced design and checked clean; sets FPORT, R (the
# reinjection smtpd) and S (the listening smtpd)
daemon_instance() {
	local name=$1
	shift
	pf_new "$name"
	sink_start
	FPORT=$(free_port)
	daemon_conf "$@"
	pf_start
	R=127.0.0.1:$PF_REINJECT_PORT/inet
	S=$PF_SMTP_PORT/inet
	reinstall advanced
	start_daemon
	check "advanced: the daemon starts" pf_wait_port "$FPORT" 1
	clean "advanced"
}
# drain - drop whatever is left in the queue, forget the logs of a case
drain() {
	postsuper -c "$PF_CONF" -d ALL >/dev/null 2>&1
	: > "$PS_LOG"
	sink_clear
}
