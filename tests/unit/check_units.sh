#!/bin/sh
# check_units - what "make install" gives systemd, logrotate and
# sysusers/tmpfiles is valid, and agrees with itself and install-deps
#
# "make install" (the programs already built in BUILD_DIR, never rebuilt
# here) into a scratch PREFIX, so that @SBINDIR@ becomes a directory
# that really holds the programs; then:
#  - systemd-analyze verify says nothing at all about each of the three
#    units (its exit status alone is 0 even for a misspelt setting). The
#    units' Documentation=man: lines are checked with man(1): MANPATH is
#    the installed pages, so a page the units name must be installed;
#  - a copy of a unit whose ExecStart names a missing program is
#    reported (the check can fail);
#  - each unit is Type=notify with NotifyAccess=main, runs the daemon in
#    the foreground (-F: the master must be the main process), starts
#    before postfix.service and Debian's postfix@-.service, and its
#    TimeoutStopSec is above the Postfix timeout that bounds the work in
#    progress at a drain (postconf -d: smtp_data_done_timeout,
#    milter_content_timeout, smtpd_policy_service_timeout);
#  - systemd-sysusers and systemd-tmpfiles, run on the installed files
#    in a scratch root, make the user and directories of install-deps,
#    with its owner and modes;
#  - logrotate reads the installed file without an error, rotates a
#    file in the units' LogsDirectory, and its postrotate sends SIGUSR2
#    (reopen) to the main process, never SIGHUP (reload).
# Needs systemd-analyze, systemd-sysusers, systemd-tmpfiles, logrotate,
# man and postconf; without them it says so and fails. Prints
# "check_units: plan N checks" first and "check_units: N passed, N
# failed" last.

name=check_units
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$top/build}
pass=0
fail=0
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

for p in systemd-analyze systemd-sysusers systemd-tmpfiles logrotate man postconf make; do
    if ! command -v "$p" >/dev/null 2>&1; then
        echo "$name: needs $p (scripts/install-deps)"
        echo "$name: 0 passed, 1 failed"
        exit 1
    fi
done
for p in postsift-filter postsift-reinject postsift-smtpcli postsift-check postsift-policy; do
    if [ ! -x "$build/bin/$p" ]; then
        echo "$name: no $build/bin/$p (run make)"
        echo "$name: 0 passed, 1 failed"
        exit 1
    fi
done
dir=$(mktemp -d /tmp/$name.XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
echo "$name: plan 41 checks"

# ok NAME CONDITION... - count one check
ok() {
    _n=$1
    shift
    if "$@"; then
        pass=$((pass + 1))
    else
        echo "FAIL $_n" >&2
        fail=$((fail + 1))
    fi
}

# usec SPAN - a systemd time span ("11min") in microseconds
usec() { systemd-analyze timespan "$1" 2>/dev/null | awk '/μs:/ { print $2 }'; }

# unit_value UNIT KEY - the last value of KEY= in the installed unit
unit_value() { sed -n "s/^$2=//p" "$units/$1.service" | tail -n 1; }

# 1. make install, with the programs as they are
pre=$dir/usr
units=$dir/units
old=
for p in postsift-filter postsift-reinject postsift-smtpcli postsift-check postsift-policy; do
    old="$old -o $build/bin/$p"
done
# shellcheck disable=SC2086
make -s -C "$top" --no-print-directory B="$build" $old PREFIX="$pre" \
    SYSCONFDIR="$dir/etc" SYSTEMDUNITDIR="$units" install > "$dir/install.out" 2>&1
rc=$?
ok "make install into $pre (exit $rc: $(tail -n 3 "$dir/install.out"))" test "$rc" -eq 0
for f in "$units/postsift-filter.service" "$units/postsift-milter.service" \
    "$units/postsift-policy.service" "$pre/lib/sysusers.d/postsift.conf" \
    "$pre/lib/tmpfiles.d/postsift.conf" "$dir/etc/logrotate.d/postsift"; do
    ok "make install puts ${f#"$dir"/}" test -s "$f"
done
ok "no @SBINDIR@ left in the units" sh -c "! grep -q @SBINDIR@ '$units'/*.service"

# 2. systemd-analyze verify: clean
for u in postsift-filter postsift-milter postsift-policy; do
    out=$(cd "$units" && MANPATH=$pre/share/man systemd-analyze verify "./$u.service" 2>&1)
    rc=$?
    ok "systemd-analyze verify $u.service is clean (exit $rc: $out)" \
        test "$rc" -eq 0 -a -z "$out"
done
mkdir "$dir/bad"
sed "s|^ExecStart=[^ ]*|ExecStart=$dir/absent/postsift-filter|" \
    "$units/postsift-filter.service" > "$dir/bad/postsift-filter.service"
out=$(cd "$dir/bad" && MANPATH=$pre/share/man systemd-analyze verify ./postsift-filter.service 2>&1)
ok "systemd-analyze verify reports a missing program ($out)" \
    sh -c "printf '%s' '$out' | grep -q absent"

# 3. readiness, ordering, stop time
for u in postsift-filter postsift-milter postsift-policy; do
    ok "$u: Type=notify" test "$(unit_value $u Type)" = notify
    ok "$u: NotifyAccess=main" test "$(unit_value $u NotifyAccess)" = main
    ok "$u: the master in the foreground (-F)" \
        sh -c "printf '%s\n' '$(unit_value $u ExecStart)' | grep -q -- ' -F'"
    before=" $(unit_value $u Before) "
    ok "$u: Before= postfix.service and postfix@-.service ($before)" \
        sh -c "case '$before' in *' postfix.service '*) case '$before' in *' postfix@-.service '*) exit 0;; esac;; esac; exit 1"
done
# timeout_above UNIT PARAM - TimeoutStopSec of UNIT above Postfix's PARAM
timeout_above() {
    _stop=$(usec "$(unit_value "$1" TimeoutStopSec)")
    _pf=$(postconf -dh "$2")
    _pfus=$(usec "$(printf '%s' "$_pf" | sed 's/^\([0-9]*\)$/\1s/')")
    ok "$1: TimeoutStopSec ($_stop us) above Postfix's $2 ($_pf = $_pfus us)" \
        test -n "$_stop" -a -n "$_pfus" -a "${_stop:-0}" -gt "${_pfus:-0}"
}
timeout_above postsift-filter smtp_data_done_timeout
timeout_above postsift-milter milter_content_timeout
timeout_above postsift-policy smtpd_policy_service_timeout

# 4. sysusers and tmpfiles agree with install-deps
root=$dir/root
mkdir -p "$root/etc"
deps=$top/scripts/install-deps
user=$(sed -n 's/^USER_NAME=//p' "$deps")
home=$(sed -n 's/^USER_HOME=//p' "$deps")
shell=$(sed -n 's/.*--shell \([^ ]*\) .*/\1/p' "$deps" | tail -n 1)
systemd-sysusers --root="$root" "$pre/lib/sysusers.d/postsift.conf" > "$dir/sysusers.out" 2>&1
ok "systemd-sysusers accepts the file ($(head -n 2 "$dir/sysusers.out"))" test $? -eq 0
pw=$(grep "^$user:" "$root/etc/passwd")
ok "sysusers: user $user, home $home, shell $shell, a system uid ($pw)" \
    sh -c "printf '%s\n' '$pw' | awk -F: -v h='$home' -v s='$shell' '\$6 == h && \$7 == s && \$3 > 0 && \$3 < 1000 { f = 1 } END { exit !f }'"
ok "sysusers: group $user" grep -q "^$user:" "$root/etc/group"
uid=$(printf '%s\n' "$pw" | cut -d: -f3)
systemd-tmpfiles --root="$root" --create "$pre/lib/tmpfiles.d/postsift.conf" > "$dir/tmpfiles.out" 2>&1
ok "systemd-tmpfiles accepts the file ($(head -n 2 "$dir/tmpfiles.out"))" test $? -eq 0
# the directories install-deps makes: its loop over "$USER_HOME"...
dirs=$(sed -n 's/^for d in \("\$USER_HOME".*\); do$/\1/p' "$deps" | tr -d '"' |
    sed "s|\\\$USER_HOME|$home|g")
ok "install-deps names its directories ($dirs)" test -n "$dirs"
for d in $dirs; do
    got=$(stat -c '%a %u' "$root$d" 2>/dev/null)
    ok "tmpfiles: $d is 0700, owned by $user as install-deps makes it ($got)" \
        test "$got" = "700 $uid"
done
ok "tmpfiles: /run/postsift (the pid files' directory)" test -d "$root/run/postsift"

# 5. logrotate: valid, the units' log directory, SIGUSR2 to the main process
lr=$dir/etc/logrotate.d/postsift
logrotate -d -s "$dir/lr.state" "$lr" > "$dir/lr.out" 2>&1
ok "logrotate reads the file without an error ($(grep -i error "$dir/lr.out" | head -n 1))" \
    sh -c "! grep -qi 'error' '$dir/lr.out'"
logdir=$(unit_value postsift-filter LogsDirectory)
ok "logrotate rotates a log_file in /var/log/$logdir, the units' LogsDirectory" \
    grep -q "^/var/log/$logdir/[^ ]* {" "$lr"
ok "postrotate sends SIGUSR2 (reopen) to the main process" \
    grep -q 'systemctl kill --kill-who=main -s USR2' "$lr"
ok "postrotate never sends SIGHUP (that reloads the signatures)" \
    sh -c "! sed -n '/postrotate/,/endscript/p' '$lr' | grep -q HUP"

echo "$name: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
