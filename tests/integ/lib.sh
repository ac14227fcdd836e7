# tests/integ/lib.sh - harness for postsift integration tests
#
# Sourced by tests/integ/t*.sh (bash). Builds private Postfix instances
# under one temporary directory, a capturing SMTP sink per instance
# (Postfix's own smtp-sink), a private clamd, test messages, and the
# plan/check/finish counters that tests/run reads.
#
# Every test declares how many checks it runs (plan N, before the first
# check; a count that depends on data, such as the number of ClamAV test
# files, is computed) and runs exactly that many, whatever happens: a
# check that cannot pass fails, it is never left out. tests/run fails a
# test without a plan or with another number of checks; finish exits
# non-zero then too.
#
# Layout of an instance NAME (pf_new NAME):
#   $TESTROOT/NAME/etc       config_directory (main.cf, master.cf)
#   $TESTROOT/NAME/queue     queue_directory
#   $TESTROOT/NAME/data      data_directory
#   $TESTROOT/NAME/maillog   maillog_file (written by postlogd)
#   $TESTROOT/NAME/sink      smtp-sink dumps, one file per message
#   $TESTROOT/NAME/env       the exported variables, for pf_use NAME
# All mail of an instance, DSNs included, is relayed to its sink:
# relayhost = [127.0.0.1]:$SINK_PORT and mydestination is empty.
#
# Exported for the current instance: PF_NAME PF_DIR PF_CONF PF_QUEUE
# PF_SMTP_PORT (the submission smtpd, master.cf service "PORT/inet"),
# PF_REINJECT_PORT (free, for a reinjection smtpd; pf_reinject_service
# or postsift-postfix adds it), SINK_PORT, SINK_DIR.
#
# Running as root is required (postfix start). Sendmail reinjection by an
# unprivileged user (pipe(8) user=postsift) needs the instance's
# config_directory in /etc/postfix/main.cf alternate_config_directories:
# postdrop is set-gid and refuses an unlisted MAIL_CONFIG. pf_new adds
# it there (postconf -e, idempotent) and pf_cleanup takes it out again.
#
# Functions (each has a one-line comment below):
#   counters   plan N, check NAME CMD..., require NAME CMD..., ok NAME,
#              fail NAME [WHY], finish, die, note
#   setup      need_root, need_prog, testroot_init, free_port,
#              wait_for TIMEOUT CMD..., on_cleanup CMD
#   postfix    pf_new NAME, pfc ARGS (postconf -c), settle FILE..., pf_start,
#              pf_stop, pf_use,
#              pf_running, pf_reload, pf_log, pf_log_wait, pf_queue_count,
#              pf_postqueue, pf_flush, wait_queue_empty, pf_reinject_service,
#              pf_cleanup (also run by the EXIT/INT/TERM trap)
#   postsift   ps_conf [name=value...], ps_install [options], snap FILE,
#              $PP ARGS (scripts/postsift-postfix, then settle main.cf),
#              same_conf BEFORE, pp_rc WANT ARGS (postsift-postfix),
#              clean_check (postfix check says nothing),
#              ps_daemon_start NAME [ARGS...] (sets DPID),
#              ps_daemon_stop PID [TIMEOUT]
#   sink       sink_start, sink_stop, sink_wait, sink_messages, sink_count,
#              sink_clear, sink_rcpts, sink_sender, sink_mail_args,
#              sink_rcpt_args, sink_body
#   clamd      clamav_testdb DIR, clamd_start, clamd_ping, clamd_stop
#   messages   send_msg FILE SENDER RCPT..., mk_msg, mk_msg_attach, mk_eicar,
#              msg_header FILE NAME, msg_body FILE
# The functions that take an optional NAME act on that instance, else on
# the current one.
#
# Postfix programs read a main.cf (and a texthash table) only once it is
# 2 s old: a younger file may be half written, and they wait, 0.3 s at a
# time. Every edit here (pfc, $PP, the shared /etc/postfix/main.cf) is
# complete when the command returns (postconf renames the new file into
# place), so settle dates the file 3 s back at once, instead of making
# each following postconf, postfix or sendmail call wait.
#
# Environment: TOP (the tree the tests run from), BUILD_DIR (build dir,
# absolute), both set by tests/run (a staged copy: see tests/run);
# KEEP_TESTROOT=1 keeps $TESTROOT after the test.

set -u

TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$TOP/build}
TEST_NAME=${TEST_NAME:-$(basename "$0" .sh)}
export TOP BUILD_DIR TEST_NAME
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

SINK_USER=${SINK_USER:-nobody}
FILTER_USER=${FILTER_USER:-postsift}
PF_DEFAULT_MAIN=/etc/postfix/main.cf

_main_pid=$$
_ok=0
_fail=0
_plan=
_instances=()
_cleanup_hooks=()
_ps_daemons=()
TESTROOT=${TESTROOT:-}

# note - a line for the log
note() { printf '# %s\n' "$*"; }

# die - give up on the whole test: count a failure and finish (in a
# subshell such as $(...), only say why and fail that subshell)
die() {
	if [ "$BASHPID" != "$_main_pid" ]; then
		printf 'FATAL: %s\n' "$*" >&2
		exit 1
	fi
	printf 'FATAL: %s\n' "$*"
	_fail=$((_fail + 1))
	finish
}

# ---------------------------------------------------------------- counters

# plan N - this test runs N checks (ok, fail and check calls), declared
# before the first; the line tests/run reads
plan() {
	case ${1:-} in
	"" | *[!0-9]*) die "plan: '${1:-}' is not a number" ;;
	esac
	[ -z "$_plan" ] || die "plan: declared twice"
	[ $((_ok + _fail)) -eq 0 ] || die "plan: declared after $((_ok + _fail)) checks"
	_plan=$1
	printf '%s: plan %d checks\n' "$TEST_NAME" "$1"
}

# ok NAME / fail NAME [why] - record one result
ok() { _ok=$((_ok + 1)); printf 'ok   %s\n' "$1"; }
fail() {
	_fail=$((_fail + 1))
	printf 'FAIL %s%s\n' "$1" "${2:+: $2}"
}

# check NAME COMMAND... - run COMMAND, ok if it exits 0
check() {
	local name=$1
	shift
	local out rc=0
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "$name"
	else
		fail "$name" "exit $rc: $*"
		[ -n "$out" ] && printf '%s\n' "$out" | tail -n 20 | sed 's/^/    /'
	fi
	return 0
}

# require NAME COMMAND... - check, and when it fails, finish at once: the
# checks after it cannot pass (tests/run counts those not run as a
# failure of the plan)
require() {
	local before=$_fail
	check "$@"
	[ "$_fail" -eq "$before" ] || finish
}

# finish - print the result line tests/run sums, clean up, exit; non-zero
# when a check failed or the number of checks is not the plan
finish() {
	local bad=0
	trap - EXIT INT TERM
	if [ "$_fail" -gt 0 ]; then
		_dump_logs
		bad=1
	fi
	_cleanup_all
	if [ -z "$_plan" ]; then
		note "no plan: the test never said how many checks it runs"
		bad=1
	elif [ $((_ok + _fail)) -ne "$_plan" ]; then
		note "ran $((_ok + _fail)) of $_plan planned checks"
		bad=1
	fi
	printf '%s: %d passed, %d failed\n' "$TEST_NAME" "$_ok" "$_fail"
	exit "$bad"
}

# _dump_logs - on failure, show the tail of every instance's logs
_dump_logs() {
	local d f
	for d in "${_instances[@]}"; do
		for f in "$d/maillog" "$d/sink.log" "$d/clamd.log" "$d/postsift.log"; do
			[ -s "$f" ] || continue
			printf -- '--- tail %s\n' "$f"
			tail -n 25 "$f" | sed 's/^/    /'
		done
	done
	if [ -s "$TESTROOT/clamd/clamd.log" ]; then
		printf -- '--- tail %s\n' "$TESTROOT/clamd/clamd.log"
		tail -n 25 "$TESTROOT/clamd/clamd.log" | sed 's/^/    /'
	fi
}

# ---------------------------------------------------------------- setup

# need_root - integration tests start Postfix: root or nothing
need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		printf 'SKIP: %s needs root\n' "$TEST_NAME"
		exit 77
	fi
}

# need_prog PROG... - fail the test cleanly when a tool is missing
need_prog() {
	local p
	for p in "$@"; do
		command -v "$p" >/dev/null 2>&1 || die "missing program: $p"
	done
}

# testroot_init - create $TESTROOT (world-traversable) and the exit trap
testroot_init() {
	if [ -z "$TESTROOT" ]; then
		TESTROOT=$(mktemp -d /tmp/postsift-test.XXXXXX) || die "mktemp"
		chmod 755 "$TESTROOT"
		export TESTROOT
		: > "$TESTROOT/ports"
	fi
	trap '_on_exit' EXIT
	trap '_on_signal' INT TERM
}

_on_exit() {
	trap - EXIT
	_cleanup_all
}
_on_signal() {
	trap - INT TERM EXIT
	printf 'FATAL: %s interrupted\n' "$TEST_NAME"
	_fail=$((_fail + 1))
	_dump_logs
	_cleanup_all
	printf '%s: %d passed, %d failed\n' "$TEST_NAME" "$_ok" "$_fail"
	exit 1
}

# wait_for TIMEOUT CMD... - run CMD every 0.2 s until it succeeds (0), or
# until TIMEOUT seconds have passed (1); CMD is re-run, not re-used, so
# that a condition is a function or "eval STRING", never "$(...)"
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.2
	done
}

# on_cleanup CMD - have _cleanup_all (finish, die, the EXIT/INT/TERM traps)
# eval CMD first, before it stops daemons and instances; hooks run once,
# in the order they were added, whatever they return
on_cleanup() { _cleanup_hooks+=("$*"); }

# free_port - a loopback TCP port nobody uses, not handed out before
free_port() {
	local port used now lo hi
	used=$(awk 'NR > 1 { split($2, a, ":"); print a[2] }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null)
	now=$(date +%s)
	# Below the kernel's ephemeral range: a port from that range can be
	# taken between the pick and the bind by any connect() or bind(0) of
	# a test running beside this one (Postfix's master then dies on its
	# next reload: "bind ... Address already in use").
	lo=10000
	hi=$(awk '{ print $1 - 1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
	[ -n "$hi" ] && [ "$hi" -gt $((lo + 5000)) ] || { lo=20000; hi=59999; }
	# Parallel tests (tests/run INTEG_JOBS) pick ports between pf_new and
	# postfix start: a port handed out in the last hour, by any test, is
	# taken (a registry under a lock, entries "PORT TIME").
	(
		flock -w 30 9 || exit 1
		touch "$PORT_REGISTRY"
		for _ in $(seq 1 200); do
			port=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
			printf '%s\n' "$used" | grep -qix "$(printf '%04X' "$port")" && continue
			awk -v p="$port" -v t="$((now - 3600))" '$1 == p && $2 >= t { f = 1 } END { exit !f }' \
				"$PORT_REGISTRY" && continue
			awk -v t="$((now - 3600))" '$2 >= t' "$PORT_REGISTRY" > "$PORT_REGISTRY.new"
			echo "$port $now" >> "$PORT_REGISTRY.new"
			mv "$PORT_REGISTRY.new" "$PORT_REGISTRY"
			echo "$port"
			exit 0
		done
		exit 1
	) 9>>"$PORT_REGISTRY.lock" || die "no free port"
}

# altconf_add DIR / altconf_del DIR - list DIR in the default main.cf
# alternate_config_directories, so that set-gid postdrop accepts
# "sendmail -C DIR" (or MAIL_CONFIG=DIR) from an unprivileged user.
# Tests may run in parallel (tests/run INTEG_JOBS): the read-modify-write
# of the one shared main.cf is serialized with a lock.
ALTCONF_LOCK=/run/postsift-tests.altconf.lock
PORT_REGISTRY=/run/postsift-tests.ports
altconf_add() {
	local dir=$1 cur
	[ -e "$PF_DEFAULT_MAIN" ] || : > "$PF_DEFAULT_MAIN"
	(
		flock -w 30 9 || die "cannot lock $ALTCONF_LOCK"
		cur=$(postconf -h alternate_config_directories 2>/dev/null)
		_altconf_list "$cur" | grep -qxF "$dir" && exit 0
		postconf -e "alternate_config_directories = $(_altconf_prune "$cur" "") $dir" ||
			die "cannot update $PF_DEFAULT_MAIN"
		settle "$PF_DEFAULT_MAIN"
	) 9>>"$ALTCONF_LOCK" || die "cannot update $PF_DEFAULT_MAIN"
}
altconf_del() {
	(
		flock -w 30 9 || exit 0
		cur=$(postconf -h alternate_config_directories 2>/dev/null) || exit 0
		_altconf_list "$cur" | grep -qxF "$1" || exit 0
		postconf -e "alternate_config_directories = $(_altconf_prune "$cur" "$1")"
		settle "$PF_DEFAULT_MAIN"
	) 9>>"$ALTCONF_LOCK"
}
_altconf_list() { printf '%s\n' "$1" | tr ', \t' '\n\n\n' | sed '/^$/d'; }
# _altconf_prune LIST DIR - LIST without DIR and without stale test dirs
_altconf_prune() {
	local d out=
	for d in $(_altconf_list "$1"); do
		[ "$d" = "$2" ] && continue
		case $d in /tmp/postsift-test.*) [ -d "$d" ] || continue ;; esac
		out="${out:+$out }$d"
	done
	printf '%s' "$out"
}

# pf_new NAME - create (not start) a private Postfix instance; make it current
pf_new() {
	local name=$1 d p
	[ -n "$TESTROOT" ] || testroot_init
	d=$TESTROOT/$name
	[ -e "$d" ] && die "pf_new: $name exists"
	mkdir -p "$d/etc" "$d/queue" "$d/data" "$d/sink" || die "mkdir $d"
	chmod 755 "$d" "$d/etc" "$d/queue"
	chown "$SINK_USER" "$d/sink"
	chown "$(postconf -dh mail_owner)" "$d/data"
	chmod 700 "$d/data"
	: > "$d/etc/main.cf"
	: > "$d/etc/master.cf"
	_instances+=("$d")

	PF_NAME=$name
	PF_DIR=$d
	PF_CONF=$d/etc
	PF_QUEUE=$d/queue
	PF_SMTP_PORT=$(free_port) || die "no free port"
	PF_REINJECT_PORT=$(free_port) || die "no free port"
	SINK_PORT=$(free_port) || die "no free port"
	SINK_DIR=$d/sink
	export PF_NAME PF_DIR PF_CONF PF_QUEUE PF_SMTP_PORT PF_REINJECT_PORT \
		SINK_PORT SINK_DIR
	declare -p PF_NAME PF_DIR PF_CONF PF_QUEUE PF_SMTP_PORT \
		PF_REINJECT_PORT SINK_PORT SINK_DIR | sed 's/^declare -x /export /; s/^declare -- /export /' > "$d/env"

	# The compiled-in defaults already point at the system's Postfix
	# programs; say so explicitly, a private config_directory must not
	# make postfix-script look for postfix-files in it.
	pfc -e "compatibility_level = 3.6" \
		"meta_directory = $(postconf -dh meta_directory)" \
		"shlib_directory = $(postconf -dh shlib_directory)" \
		"daemon_directory = $(postconf -dh daemon_directory)" \
		"command_directory = $(postconf -dh command_directory)" \
		"queue_directory = $PF_QUEUE" \
		"data_directory = $d/data" \
		"maillog_file = $d/maillog" \
		"maillog_file_prefixes = $TESTROOT" \
		"syslog_name = postfix-$name" \
		"myhostname = mx.postsift.test" \
		"mydomain = postsift.test" \
		"myorigin = \$myhostname" \
		"mydestination =" \
		"relay_domains =" \
		"alias_maps =" \
		"alias_database =" \
		"local_recipient_maps =" \
		"inet_interfaces = loopback-only" \
		"inet_protocols = ipv4" \
		"mynetworks = 127.0.0.0/8" \
		"relayhost = [127.0.0.1]:$SINK_PORT" \
		"queue_run_delay = 1s" \
		"minimal_backoff_time = 1s" \
		"maximal_backoff_time = 5s" \
		"delay_warning_time = 0" \
		"smtp_tls_security_level = none" \
		"smtpd_tls_security_level = none" \
		"smtpd_banner = \$myhostname ESMTP postsift-test $name" \
		"biff = no" \
		"append_dot_mydomain = no" || die "postconf -e"

	# master.cf: the daemons a relay-only instance needs, no chroot
	# (a private queue_directory has no /etc files for a chroot).
	while read -r p; do
		pfc -M "${p%% *}/$(echo "$p" | awk '{print $2}')=$p" ||
			die "postconf -M $p"
	done <<EOF
$PF_SMTP_PORT inet n - n - - smtpd
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
EOF
	altconf_add "$PF_CONF"
}

# pfc ARGS... - postconf for the current instance (main.cf settled after
# an edit: -e, -X, -#)
pfc() {
	local rc=0 a
	postconf -c "$PF_CONF" "$@" || rc=$?
	for a in "$@"; do
		case $a in
		-[!-]*[eX#]* | -[eX#]*) settle "$PF_CONF/main.cf"; break ;;
		esac
	done
	return "$rc"
}

# settle FILE... - date complete files 3 s back, so that Postfix programs
# read them at once (see the top of this file)
settle() {
	touch -c -m -d "@$((EPOCHSECONDS - 3))" "$@" 2>/dev/null
	return 0
}

# $PP ARGS... - scripts/postsift-postfix ARGS; the main.cf it edited
# (-c DIR, else the current instance's) and the tables it wrote there
# settled after
# shellcheck disable=SC2034 # used by the tests
PP=postsift_postfix
postsift_postfix() {
	local rc=0 dir=${PF_CONF:-} a prev=
	for a in "$@"; do
		[ "$prev" = -c ] && dir=$a
		prev=$a
	done
	"$TOP/scripts/postsift-postfix" "$@" || rc=$?
	[ -z "$dir" ] || settle "$dir/main.cf" "$dir"/postsift_filter_*
	return "$rc"
}

# pf_use NAME - make instance NAME current again
pf_use() {
	[ -r "$TESTROOT/$1/env" ] || die "pf_use: no instance $1"
	# shellcheck disable=SC1090
	. "$TESTROOT/$1/env"
}

# _pf_dir [NAME] - the directory of NAME or of the current instance
_pf_dir() { if [ $# -gt 0 ] && [ -n "$1" ]; then echo "$TESTROOT/$1"; else echo "$PF_DIR"; fi; }

# pf_start [NAME] - check and start an instance
pf_start() {
	local d out
	d=$(_pf_dir "${1:-}")
	out=$(postfix -c "$d/etc" check 2>&1) || die "postfix check: $out"
	[ -z "$out" ] || note "postfix check: $out"
	postfix -c "$d/etc" start >/dev/null 2>&1 ||
		die "postfix start failed: $(tail -n 5 "$d/maillog" 2>/dev/null)"
	pf_wait_port "$(. "$d/env"; echo "$PF_SMTP_PORT")" 10 ||
		die "smtpd of $(basename "$d") does not answer"
}

# pf_running [NAME] - is the master of an instance alive
pf_running() {
	local d
	d=$(_pf_dir "${1:-}")
	postfix -c "$d/etc" status >/dev/null 2>&1
}

# pf_stop [NAME] - stop an instance and wait for its master to exit
pf_stop() {
	local d pidf pid
	d=$(_pf_dir "${1:-}")
	pidf=$d/queue/pid/master.pid
	[ -r "$pidf" ] || return 0
	pid=$(tr -dc 0-9 < "$pidf")
	postfix -c "$d/etc" stop >/dev/null 2>&1
	for _ in $(seq 1 100); do
		[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	postfix -c "$d/etc" abort >/dev/null 2>&1
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	return 0
}

# pf_reload [NAME] - postfix reload, and wait (up to 10 s) until the
# master logs that it has read the new configuration
pf_reload() {
	local d n
	d=$(_pf_dir "${1:-}")
	n=$(grep -c 'master\[[0-9]*\]: reload -- ' "$d/maillog" 2>/dev/null)
	postfix -c "$d/etc" reload >/dev/null 2>&1 || return 1
	wait_for 10 _reloaded "$d/maillog" "${n:-0}"
	return 0
}
# _reloaded MAILLOG N - the master has logged more than N reloads
_reloaded() { [ "$(grep -c 'master\[[0-9]*\]: reload -- ' "$1" 2>/dev/null)" -gt "$2" ]; }

# pf_log [NAME] - path of the instance's maillog
pf_log() { echo "$(_pf_dir "${1:-}")/maillog"; }

# pf_queue_count [NAME] - messages in maildrop, incoming, active, deferred, hold
pf_queue_count() {
	local q
	q=$(_pf_dir "${1:-}")/queue
	find "$q/maildrop" "$q/incoming" "$q/active" "$q/deferred" "$q/hold" \
		-type f 2>/dev/null | wc -l
}

# pf_flush [NAME] - attempt delivery of all queued mail now
pf_flush() { postqueue -c "$(_pf_dir "${1:-}")/etc" -f >/dev/null 2>&1; }

# pf_postqueue [NAME] - the queue listing (postqueue -p)
pf_postqueue() { postqueue -c "$(_pf_dir "${1:-}")/etc" -p 2>&1; }

# wait_queue_empty TIMEOUT [NAME] - wait until the queue is empty
wait_queue_empty() {
	local end=$((SECONDS + $1))
	while [ "$(pf_queue_count "${2:-}")" -gt 0 ]; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.2
	done
}

# pf_log_wait PATTERN TIMEOUT [NAME] - wait for an extended regex in maillog
pf_log_wait() {
	local f end=$((SECONDS + $2))
	f=$(pf_log "${3:-}")
	until grep -qE -- "$1" "$f" 2>/dev/null; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.2
	done
}

# pf_wait_port PORT TIMEOUT - wait until something listens on 127.0.0.1:PORT
pf_wait_port() {
	local end=$((SECONDS + $2))
	until nc -z 127.0.0.1 "$1" 2>/dev/null; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.1
	done
}

# pf_reinject_service [NAME] - add the FILTER_README reinjection smtpd on
# 127.0.0.1:$PF_REINJECT_PORT (what "postsift-postfix install simple" adds)
pf_reinject_service() {
	local d
	d=$(_pf_dir "${1:-}")
	(
		. "$d/env"
		postconf -c "$d/etc" -M "127.0.0.1:$PF_REINJECT_PORT/inet=127.0.0.1:$PF_REINJECT_PORT inet n - n - 10 smtpd -o content_filter= -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks,no_milters -o smtpd_helo_restrictions= -o smtpd_client_restrictions= -o smtpd_sender_restrictions= -o smtpd_recipient_restrictions=permit_mynetworks,reject -o smtpd_relay_restrictions=permit_mynetworks,reject -o mynetworks=127.0.0.0/8 -o smtpd_authorized_xforward_hosts=127.0.0.0/8 -o smtpd_data_restrictions= -o smtpd_end_of_data_restrictions="
	)
}

# pf_cleanup - stop everything this test started, remove $TESTROOT
pf_cleanup() { _cleanup_all; }

_cleanup_all() {
	local d _hooks _h
	_hooks=("${_cleanup_hooks[@]}")
	_cleanup_hooks=()
	for _h in "${_hooks[@]}"; do
		eval "$_h"
	done
	for d in "${_ps_daemons[@]}"; do
		_ps_kill "$d"
	done
	_ps_daemons=()
	[ -n "$TESTROOT" ] || return 0
	for d in "${_instances[@]}"; do
		_sink_stop_dir "$d"
		_clamd_stop_dir "$d"
		pf_stop "$(basename "$d")"
		altconf_del "$d/etc"
	done
	[ -d "$TESTROOT/clamd" ] && _clamd_stop_dir "$TESTROOT/clamd"
	if [ "${KEEP_TESTROOT:-0}" = 1 ]; then
		note "kept $TESTROOT"
	else
		rm -rf "$TESTROOT"
	fi
	_instances=()
	TESTROOT=
}

# ---------------------------------------------------------------- postsift

# ps_conf [name=value...] - write $PF_DIR/postsift.conf for the current
# instance: private spool and quarantine (owned by $FILTER_USER), log_file
# $PF_DIR/postsift.log, reinjection to $PF_REINJECT_PORT, sendmail -C
# $PF_CONF, in-process ClamAV with the test signatures. Each name=value
# argument is appended (a later line wins). Exports PS_CONF, PS_LOG.
ps_conf() {
	local kv
	mkdir -p "$PF_DIR/ps/spool" "$PF_DIR/ps/quarantine"
	chown -R "$FILTER_USER" "$PF_DIR/ps"
	chmod 700 "$PF_DIR/ps/spool" "$PF_DIR/ps/quarantine"
	[ -d "$TESTROOT/sigs" ] || clamav_testdb "$TESTROOT/sigs" ||
		die "cannot build test signatures"
	PS_CONF=$PF_DIR/postsift.conf
	PS_LOG=$PF_DIR/postsift.log
	export PS_CONF PS_LOG
	: >> "$PS_LOG"
	chown "$FILTER_USER" "$PS_LOG"
	{
		echo "# written by tests/integ/lib.sh ps_conf for $TEST_NAME"
		echo "reinject_target = [127.0.0.1]:$PF_REINJECT_PORT"
		echo "sendmail_config_directory = $PF_CONF"
		echo "spool_dir = $PF_DIR/ps/spool"
		echo "quarantine_dir = $PF_DIR/ps/quarantine"
		echo "log_file = $PS_LOG"
		echo "scanner = clamav"
		echo "clamav_database_directory = $TESTROOT/sigs"
		echo "myhostname = filter.postsift.test"
		for kv in "$@"; do
			echo "${kv%%=*} = ${kv#*=}"
		done
	} > "$PS_CONF"
	chmod 644 "$PS_CONF"
}

# ps_install [postsift-postfix options] - "postsift-postfix install
# simple" of $BUILD_DIR/bin/postsift-filter into the current instance,
# with $PS_CONF, reinjection on $PF_REINJECT_PORT, filtering the
# clean_check - "postfix check" of the current instance says nothing.
# Lines about /etc/postfix/main.cf are not the instance's: that file only
# holds alternate_config_directories, which parallel tests edit.
clean_check() {
	local out
	out=$(postfix -c "$PF_CONF" check 2>&1 | grep -vF "$PF_DEFAULT_MAIN")
	[ -z "$out" ] || { echo "$out"; return 1; }
}
# snap FILE - postconf -n (and the unused parameters it warns about), -M
# and -P of the current instance, for same_conf
snap() {
	{ pfc -n; pfc -n 2>&1 >/dev/null | grep "unused parameter" | sort; echo ---; pfc -M; echo ---; pfc -P; } > "$1" 2>/dev/null
}
# same_conf BEFORE - the configuration equals the snapshot BEFORE
same_conf() {
	snap "$PF_DIR/now.snap"
	diff -u "$1" "$PF_DIR/now.snap"
}
# pp_rc WANT ARGS... - scripts/postsift-postfix ARGS exits WANT; output
# in $PF_DIR/pp.out
pp_rc() {
	local want=$1 rc=0
	shift
	postsift_postfix "$@" > "$PF_DIR/pp.out" 2>&1 || rc=$?
	cat "$PF_DIR/pp.out"
	[ "$rc" -eq "$want" ] || { echo "exit $rc, want $want"; return 1; }
}

# submission smtpd; output in $PF_DIR/install.log
ps_install() {
	postsift_postfix install simple -c "$PF_CONF" \
		-u "$FILTER_USER" -p "${PS_CONF:-$PF_DIR/postsift.conf}" \
		-b "$BUILD_DIR/bin/postsift-filter" -r "$PF_REINJECT_PORT" \
		-l "$PF_SMTP_PORT" "$@" >>"$PF_DIR/install.log" 2>&1
}

# ps_daemon_start NAME [ARGS...] - start the daemon in the foreground
# ($BUILD_DIR/bin/postsift-filter -m smtpd -d -F -c $PS_CONF ARGS...), in
# the background of this shell, output in $PF_DIR/NAME.out; its pid in
# DPID. Cleanup kills it and its workers unless ps_daemon_stop reaped it.
ps_daemon_start() {
	local name=$1
	shift
	"$BUILD_DIR/bin/postsift-filter" -m smtpd -d -F -c "$PS_CONF" "$@" \
		>"$PF_DIR/$name.out" 2>&1 &
	DPID=$!
	_ps_daemons+=("$DPID")
}

# ps_advanced_daemon LABEL WORKERS - on the current instance (made, not
# started): postsift.conf for the daemon on a free port (FPORT) with
# WORKERS workers, Postfix started, "postsift-postfix install advanced"
# (checked), the daemon started as root (pid in DAEMON; it drops to the
# filter user) and listening (checked). The daemon reads only
# postsift.conf: smtpd_listen and reinject_target as install prints them.
ps_advanced_daemon() {
	FPORT=$(free_port) || die "no free port"
	ps_conf "smtpd_listen=127.0.0.1:$FPORT" "smtpd_workers=$2" "smtpd_pid_file=$PF_DIR/ps/daemon.pid"
	pf_start
	check "$1: install advanced" postsift_postfix install advanced -c "$PF_CONF" \
		-p "$PS_CONF" -b "$BUILD_DIR/bin/postsift-filter" -r "$PF_REINJECT_PORT" -P "$FPORT" \
		-l "$PF_SMTP_PORT"
	ps_daemon_start daemon
	DAEMON=$DPID
	check "$1: the daemon listens" pf_wait_port "$FPORT" 15
	pf_wait_port "$PF_REINJECT_PORT" 10
}

# ps_daemon_stop PID [TIMEOUT] - SIGTERM a daemon of ps_daemon_start
# (unless it has exited already), wait up to TIMEOUT (5) seconds for it to
# drain, then SIGKILL it and its workers; reap it and return its exit status
ps_daemon_stop() {
	local pid=$1 rc=0 p keep=()
	[ -n "$pid" ] || return 0
	_ps_alive "$pid" && kill -TERM "$pid" 2>/dev/null
	wait_for "${2:-5}" eval "! _ps_alive $pid" || _ps_kill "$pid"
	wait "$pid" 2>/dev/null || rc=$?
	for p in "${_ps_daemons[@]}"; do
		[ "$p" = "$pid" ] || keep+=("$p")
	done
	_ps_daemons=("${keep[@]}")
	return "$rc"
}
_ps_alive() { kill -0 "$1" 2>/dev/null; }
# _ps_kill PID - SIGKILL a master and its workers (stopped first, so that
# it forks no new worker meanwhile), then reap it
_ps_kill() {
	kill -STOP "$1" 2>/dev/null
	pkill -KILL -P "$1" 2>/dev/null
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# ---------------------------------------------------------------- sink

# sink_start [NAME] - smtp-sink on 127.0.0.1:$SINK_PORT, one dump file per
# message in $SINK_DIR (files appear at DATA and are complete when
# smtp-sink has closed them; an aborted transaction's file is removed)
sink_start() {
	local d port
	d=$(_pf_dir "${1:-}")
	port=$(. "$d/env"; echo "$SINK_PORT")
	smtp-sink -u "$SINK_USER" -4 -h sink.postsift.test -d "$d/sink/msg." \
		"127.0.0.1:$port" 100 </dev/null >>"$d/sink.log" 2>&1 &
	echo $! > "$d/sink.pid"
	pf_wait_port "$port" 10 || die "smtp-sink does not listen on $port"
}

# sink_stop [NAME]
sink_stop() { _sink_stop_dir "$(_pf_dir "${1:-}")"; }
_sink_stop_dir() {
	local pid
	[ -r "$1/sink.pid" ] || return 0
	pid=$(cat "$1/sink.pid")
	rm -f "$1/sink.pid"
	kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	return 0
}

# sink_messages [NAME] - paths of the complete messages, oldest first
sink_messages() {
	local d pid f open=
	d=$(_pf_dir "${1:-}")
	[ -r "$d/sink.pid" ] && pid=$(cat "$d/sink.pid") &&
		open=$(readlink /proc/"$pid"/fd/* 2>/dev/null)
	# shellcheck disable=SC2045 # msg.HEX names, oldest first
	for f in $(ls -tr "$d/sink" 2>/dev/null); do
		printf '%s\n' "$open" | grep -qxF "$d/sink/$f" && continue
		echo "$d/sink/$f"
	done
}

# sink_count [NAME]
sink_count() { sink_messages "${1:-}" | wc -l; }

# sink_wait COUNT TIMEOUT [NAME] - wait until at least COUNT messages arrived
sink_wait() {
	local end=$((SECONDS + $2))
	while [ "$(sink_count "${3:-}")" -lt "$1" ]; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.2
	done
}

# sink_clear [NAME] - forget the captured messages
sink_clear() { rm -f "$(_pf_dir "${1:-}")"/sink/msg.*; }

# sink_rcpts FILE - the envelope recipients, one a line
sink_rcpts() {
	sed -n '/^Received: /q; s/^X-Rcpt-Args: <\([^>]*\)>.*/\1/p' "$1"
}

# sink_sender FILE - the envelope sender
sink_sender() {
	sed -n '/^Received: /q; s/^X-Mail-Args: <\([^>]*\)>.*/\1/p' "$1"
}

# sink_mail_args FILE / sink_rcpt_args FILE - the raw ESMTP arguments
sink_mail_args() { sed -n '/^Received: /q; s/^X-Mail-Args: //p' "$1"; }
sink_rcpt_args() { sed -n '/^Received: /q; s/^X-Rcpt-Args: //p' "$1"; }

# sink_body FILE - the message as Postfix sent it (smtp-sink's X- lines,
# its 3-line Received header and its trailing empty line removed)
sink_body() {
	awk 'skip == 0 { if ($0 ~ /^Received: /) { skip = 1 }; next }
	     skip == 1 && /^[ \t]/ { next }
	     { skip = 2; lines[n++] = $0 }
	     END { for (i = 0; i < n - 1; i++) print lines[i] }' "$1"
}

# msg_header FILE NAME - value of the first header NAME (unfolded)
msg_header() {
	awk -v want="$(printf '%s' "$2" | tr A-Z a-z)" '
	/^$/ { exit }
	/^[ \t]/ { if (on) val = val $0; next }
	{ if (on) { print val; found = 1; exit }
	  i = index($0, ":"); name = tolower(substr($0, 1, i - 1))
	  if (name == want) { on = 1; val = substr($0, i + 1); sub(/^[ \t]+/, "", val) } }
	END { if (on && !found) print val }' "$1"
}

# msg_body FILE - the part after the first empty line
msg_body() { sed '1,/^$/d' "$1"; }

# ---------------------------------------------------------------- clamd

EICAR='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'

# clamav_testdb DIR - test signatures: clam.exe (MD5) and EICAR (body)
clamav_testdb() {
	mkdir -p "$1" || return 1
	sigtool --md5 /usr/share/clamav-testfiles/clam.exe > "$1/test.hdb" ||
		return 1
	printf 'Eicar-Test-Signature:0:0:%s\n' \
		"$(printf '%s' "$EICAR" | od -An -v -tx1 | tr -d ' \n')" > "$1/test.ndb"
}

# clamd_start - Debian's clamd in the foreground, private config, unix
# socket only; exports CLAMD_SOCKET and CLAMAV_TESTDB
clamd_start() {
	local d
	[ -n "$TESTROOT" ] || testroot_init
	d=$TESTROOT/clamd
	mkdir -p "$d/tmp"
	clamav_testdb "$d/db" || die "cannot build test signatures"
	cat > "$d/clamd.conf" <<EOF
LocalSocket $d/clamd.sock
LocalSocketMode 666
FixStaleSocket yes
DatabaseDirectory $d/db
TemporaryDirectory $d/tmp
PidFile $d/clamd.pid
LogFile $d/clamd.log
LogTime yes
Foreground yes
User clamav
SelfCheck 0
MaxThreads 4
EOF
	chown -R clamav "$d"
	chmod 755 "$d"
	clamd -c "$d/clamd.conf" </dev/null >>"$d/clamd.out" 2>&1 &
	echo $! > "$d/clamd.ppid"
	CLAMD_SOCKET=$d/clamd.sock
	CLAMAV_TESTDB=$d/db
	export CLAMD_SOCKET CLAMAV_TESTDB
	for _ in $(seq 1 300); do
		[ "$(clamd_ping)" = PONG ] && return 0
		kill -0 "$(cat "$d/clamd.ppid")" 2>/dev/null ||
			die "clamd died: $(tail -n 5 "$d/clamd.log" "$d/clamd.out")"
		sleep 0.2
	done
	die "clamd does not answer PING"
}

# clamd_ping - PONG when clamd answers
clamd_ping() {
	[ -S "${CLAMD_SOCKET:-}" ] || return 0
	printf 'zPING\0' | nc -w 2 -U "$CLAMD_SOCKET" 2>/dev/null | tr -d '\0'
}

# clamd_stop
clamd_stop() { [ -n "$TESTROOT" ] && _clamd_stop_dir "$TESTROOT/clamd"; }
_clamd_stop_dir() {
	local pid
	[ -r "$1/clamd.ppid" ] || return 0
	pid=$(cat "$1/clamd.ppid")
	rm -f "$1/clamd.ppid"
	kill "$pid" 2>/dev/null
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# ---------------------------------------------------------------- messages

# send_msg FILE SENDER RCPT... - submit FILE by SMTP to the current
# instance's smtpd with swaks (independent of our code). The file is sent
# byte for byte: CRLF line ends and dot-stuffing are added here, and
# swaks' own data processing is off (-ndf). Transcript in $PF_DIR/swaks.log.
send_msg() {
	local file=$1 sender=$2 rcpts smtp
	shift 2
	rcpts=$(IFS=,; echo "$*")
	smtp=$(mktemp "$PF_DIR/send.XXXXXX")
	{ sed -e 's/\r$//' -e 's/^\./../' -e 's/$/\r/' "$file"; printf '.'; } > "$smtp"
	swaks -ndf -n -s 127.0.0.1 -p "$PF_SMTP_PORT" -h client.postsift.test \
		-f "$sender" -t "$rcpts" --data "@$smtp" >>"$PF_DIR/swaks.log" 2>&1
	local rc=$?
	rm -f "$smtp"
	return $rc
}

# mk_msg FILE [SUBJECT] - a plain text message
mk_msg() {
	local id
	id=$(date +%s).$$.$RANDOM
	cat > "$1" <<EOF
From: Sender <sender@example.com>
To: Rcpt <rcpt@example.net>
Subject: ${2:-postsift test $id}
Date: $(LC_ALL=C date -R)
Message-ID: <$id@postsift.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Hello,

this is a postsift test message.
.a line that starts with a dot
..and one with two
 leading space, trailing space 
end.
EOF
}

# mk_msg_attach FILE ATTACHMENT [NAME [CONTENT-TYPE]] - multipart/mixed with
# a text part and ATTACHMENT as a base64 part (base64 -w 76)
mk_msg_attach() {
	local out=$1 att=$2 name=${3:-$(basename "$2")} ct=${4:-application/octet-stream}
	local id b
	id=$(date +%s).$$.$RANDOM
	b="=_postsift_$id"
	{
		cat <<EOF
From: Sender <sender@example.com>
To: Rcpt <rcpt@example.net>
Subject: postsift attachment test $name
Date: $(LC_ALL=C date -R)
Message-ID: <$id@postsift.test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="$b"

This is a multi-part message in MIME format.

--$b
Content-Type: text/plain; charset=us-ascii

See the attachment.

--$b
Content-Type: $ct; name="$name"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="$name"

EOF
		base64 -w 76 "$att"
		printf '\n--%s--\n' "$b"
	} > "$out"
}

# mk_eicar FILE - the 68-byte EICAR test file
mk_eicar() { printf '%s' "$EICAR" > "$1"; }
