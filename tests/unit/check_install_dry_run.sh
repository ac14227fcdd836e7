#!/bin/sh
# check_install_dry_run - "postsift-postfix install --dry-run" changes
# nothing and prints what install does
#
# For each design (simple, simple --only, advanced, spawn, before-queue,
# advanced --lmtp, milter --local, policy, policy --daemon)
# three copies of one scratch Postfix configuration directory: install
# --dry-run runs on the first, which must stay as it was (main.cf,
# master.cf, no saved state, no --only tables); install runs for real on
# the second; the postconf commands the dry run printed run on the third.
# The dry run must print the same postconf commands as the real install,
# the third copy must end as the second (postconf -n, -M, -P), and the
# --only tables the dry run shows must be those install wrote. Needs
# Postfix's postconf and the user postsift, not root, not a running
# Postfix (without them it says so and counts nothing). For --lmtp also:
# the scan transport is lmtp(8) with its own parameters, remove brings
# back the configuration of before, and before-queue refuses --lmtp. For
# policy also: where check_policy_service goes in a list with
# reject_unauth_destination and with permits, the spawn(8) service and
# its time limit, remove. Prints
# "check_install_dry_run: plan N checks" first and
# "check_install_dry_run: N passed, N failed" last.

name=check_install_dry_run
top=$(cd "$(dirname "$0")/../.." && pwd)
pp=$top/scripts/postsift-postfix
pass=0
fail=0
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

if ! command -v postconf >/dev/null 2>&1 || ! id -u postsift >/dev/null 2>&1; then
    # a test that cannot run is a failure, never a silent pass
    echo "$name: needs Postfix's postconf and the user postsift (scripts/install-deps)"
    echo "$name: 0 passed, 1 failed"
    exit 1
fi
dir=$(mktemp -d /tmp/$name.XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
echo "$name: plan 58 checks"

mkdir "$dir/postsift"
: > "$dir/postsift/postsift.conf"
cp "$top/conf/pipe_status_filter" "$dir/postsift/"
filter=$(readlink -f /bin/true)
master=/usr/share/postfix/master.cf.dist
[ -f "$master" ] || master=$(postconf -h config_directory)/master.cf

# check WHAT CMD... - one check
check() {
    _what=$1
    shift
    if "$@"; then
        pass=$((pass + 1))
        echo "ok   $_what"
    else
        fail=$((fail + 1))
        echo "FAIL $_what"
    fi
}

# run_to FILE CMD... - CMD with its output in FILE
run_to() {
    _f=$1
    shift
    "$@" > "$_f" 2>&1
}

# instance DIR - a scratch configuration directory
instance() {
    mkdir -p "$1"
    cp "$master" "$1/master.cf"
    printf '%s\n' "compatibility_level = 3.6" "myhostname = mx.example.com" \
        "mynetworks = 127.0.0.0/8" > "$1/main.cf"
}

# state DIR - what postconf shows of DIR, its paths as @DIR@
state() {
    { postconf -c "$1" -n; postconf -c "$1" -M; postconf -c "$1" -P; } 2>/dev/null |
        sed "s|$1|@DIR@|g"
}

# commands FILE DIR - the postconf commands of an install's output, DIR as @DIR@
commands() { sed -n 's/^postsift-postfix: \(postconf -c .*\)/\1/p' "$1" | sed "s|$2|@DIR@|g"; }

# unchanged DIR - nothing was written in DIR
unchanged() {
    cmp -s "$1/main.cf" "$dir/pristine/main.cf" && cmp -s "$1/master.cf" "$master" &&
        [ "$(ls "$1")" = "$(printf 'main.cf\nmaster.cf')" ]
}

# replay FILE FROM TO - run the postconf commands of FILE on TO
replay() {
    commands "$1" "$2" | sed "s|@DIR@|$3|g" > "$dir/replay.sh"
    sh -e "$dir/replay.sh" >/dev/null 2>&1
}

# tables_shown FILE DIR - every table the dry run shows is the one install wrote
tables_shown() {
    _ok=1
    for _t in "$2"/postsift_filter_*; do
        [ -f "$_t" ] || return 1
        _shown=$(sed -n "/^postsift-postfix: dry run: would write .*\/${_t##*/}:\$/,/^postsift-postfix: /p" "$1" |
            sed -n 's/^    //p')
        [ "$_shown" = "$(cat "$_t")" ] || _ok=
    done
    [ -n "$_ok" ]
}

# design NAME DESIGN ARGS... - the dry run, the install and the replay
design() {
    _n=$1
    shift
    _design=$1
    shift
    instance "$dir/$_n/etc"
    instance "$dir/$_n.real/etc"
    instance "$dir/$_n.replay/etc"
    _dry=$dir/$_n/etc
    _real=$dir/$_n.real/etc
    set -- "$_design" -p "$dir/postsift/postsift.conf" -b "$filter" "$@"
    check "$_n: install --dry-run exits 0" \
        run_to "$dir/$_n.dry.out" "$pp" install "$@" --dry-run -c "$_dry"
    check "$_n: the dry run changes nothing" unchanged "$_dry"
    check "$_n: install exits 0" run_to "$dir/$_n.real.out" "$pp" install "$@" -c "$_real"
    check "$_n: the dry run prints the postconf commands of install" \
        test "$(commands "$dir/$_n.dry.out" "$_dry")" = "$(commands "$dir/$_n.real.out" "$_real")"
    replay "$dir/$_n.dry.out" "$_dry" "$dir/$_n.replay/etc"
    check "$_n: those commands make what install makes" \
        test "$(state "$dir/$_n.replay/etc")" = "$(state "$_real")"
}

instance "$dir/pristine"
design simple simple
design only simple --only clients=192.0.2.0/24 --only senders=example.org
check "only: the dry run shows the tables install writes" \
    tables_shown "$dir/only.dry.out" "$dir/only.real/etc"
design advanced advanced
design spawn spawn -m 4
design before-queue before-queue
design milter milter --local
design lmtp advanced --lmtp
_lm=$dir/lmtp.real/etc
check "lmtp: the scan transport is lmtp(8)" \
    test "$(postconf -c "$_lm" -M scan/unix 2>/dev/null | awk '{ print $8 }')" = lmtp
check "lmtp: lmtp_send_xforward_command=yes, lmtp_data_done_timeout=1200s" \
    test "$(postconf -c "$_lm" -P scan/unix/lmtp_send_xforward_command \
        scan/unix/lmtp_data_done_timeout 2>/dev/null | sed 's/.*= //' | tr '\n' ' ')" = "yes 1200s "
check "lmtp: the listening smtpd's content_filter is the LMTP next hop" \
    test "$(postconf -c "$_lm" -Ph smtp/inet/content_filter 2>/dev/null)" = "scan:inet:[127.0.0.1]:10025"
run_to "$dir/lmtp.remove.out" "$pp" remove -c "$_lm"
check "lmtp: remove brings back the configuration of before" \
    test "$(state "$_lm")" = "$(state "$dir/pristine")"
check "before-queue --lmtp is a usage error" \
    test "$("$pp" install before-queue --lmtp -p "$dir/postsift/postsift.conf" -b "$filter" \
        --dry-run -c "$dir/pristine" >/dev/null 2>&1; echo $?)" = 2

design policy policy
design policy-daemon policy --daemon
_pl=$dir/policy.real/etc
check "policy: the spawn(8) service runs postsift-policy -m spawn as postsift" \
    test "$(postconf -c "$_pl" -M postsift-policy/unix 2>/dev/null | awk '{ print $8, $9, $11 }')" = \
        "spawn user=postsift -m"
check "policy: postsift-policy_time_limit = 3600s" \
    test "$(sed -n 's/^postsift-policy_time_limit = //p' "$_pl/main.cf")" = 3600s
check "policy --daemon: the check asks policy_listen, no master.cf service" \
    test "$(postconf -c "$dir/policy-daemon.real/etc" -h smtpd_recipient_restrictions 2>/dev/null)" = \
        "check_policy_service { inet:127.0.0.1:10040, timeout=27s, default_action=DEFER_IF_PERMIT }" -a \
        -z "$(postconf -c "$dir/policy-daemon.real/etc" -M postsift-policy/unix 2>/dev/null)"
# place LIST - smtpd_recipient_restrictions after install policy on LIST
place() {
    rm -rf "$dir/place"
    instance "$dir/place"
    postconf -c "$dir/place" -e "smtpd_recipient_restrictions=$1"
    "$pp" install policy -p "$dir/postsift/postsift.conf" -b "$filter" -c "$dir/place" \
        > "$dir/place.out" 2>&1
    postconf -c "$dir/place" -h smtpd_recipient_restrictions 2>/dev/null |
        sed 's/check_policy_service {[^}]*}/POLICY/'
}
check "policy: right after reject_unauth_destination" \
    test "$(place "reject_non_fqdn_recipient reject_unauth_destination permit_sasl_authenticated")" = \
        "reject_non_fqdn_recipient, reject_unauth_destination, POLICY, permit_sasl_authenticated"
check "policy: before the first permit when one comes before reject_unauth_destination" \
    test "$(place "reject_unlisted_recipient, permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination")" = \
        "reject_unlisted_recipient, POLICY, permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination"
run_to "$dir/policy.remove.out" "$pp" remove -c "$_pl"
check "policy: remove brings back the configuration of before" \
    test "$(state "$_pl")" = "$(state "$dir/pristine")"
check "policy --daemon -u is a usage error" \
    test "$("$pp" install policy --daemon -u postsift -p "$dir/postsift/postsift.conf" -b "$filter" \
        --dry-run -c "$dir/pristine" >/dev/null 2>&1; echo $?)" = 2

if [ "$fail" -gt 0 ]; then
    for f in "$dir"/*.out; do
        echo "--- $f"
        cat "$f"
    done
fi
echo "$name: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
