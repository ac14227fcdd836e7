#!/bin/sh
# check_daemon_files - the daemon, started as root, never takes a pid file
# that is a link to another file
#
# smtpd_pid_file names a hard link to a root-owned 0600 file (the
# /etc/shadow attack), then a symlink to it: the daemon must refuse to
# start (exit 75, before it binds anything: smtpd_listen is not even
# valid here), and the file must keep its mode, owner and content. Needs
# root (exit 77, skipped, otherwise) and BUILD_DIR. Prints
# "check_daemon_files: N passed, N failed".

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$top/build}
filter=$build/bin/postsift-filter
pass=0
fail=0
# Under SAN=1 the programs are sanitizer builds; what they leave allocated
# when they exit() is not what this checks, and it would change the status.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
export ASAN_OPTIONS

if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP check_daemon_files: needs root"
    exit 77
fi
if [ ! -x "$filter" ]; then
    echo "check_daemon_files: no $filter (run make)" >&2
    echo "check_daemon_files: 0 passed, 1 failed"
    exit 1
fi
dir=$(mktemp -d /tmp/check_daemon_files.XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
chmod 755 "$dir"
: > "$dir/ps.conf"
printf 'root:secret:0:\n' > "$dir/shadow"
chmod 600 "$dir/shadow"
ln "$dir/shadow" "$dir/hard.pid"
ln -s "$dir/shadow" "$dir/sym.pid"

# ok NAME CONDITION... - count one check
ok() {
    name=$1
    shift
    if "$@"; then
        pass=$((pass + 1))
    else
        echo "FAIL $name" >&2
        fail=$((fail + 1))
    fi
}

for kind in hard sym; do
    rc=0
    timeout 20 "$filter" -m smtpd -d -F -c "$dir/ps.conf" -o daemon_user=daemon \
        -o "smtpd_pid_file=$dir/$kind.pid" -o smtpd_listen=nonsense \
        -o "spool_dir=$dir/spool" > "$dir/out" 2>&1 || rc=$?
    ok "$kind link: the daemon refuses to start (exit $rc)" test "$rc" -eq 75
    ok "$kind link: the file keeps its mode ($(stat -c %a "$dir/shadow"))" \
        test "$(stat -c %a "$dir/shadow")" = 600
    ok "$kind link: the file keeps its owner" test "$(stat -c %u:%g "$dir/shadow")" = 0:0
    ok "$kind link: the file keeps its content" test "$(cat "$dir/shadow")" = "root:secret:0:"
    ok "$kind link: the link is left alone" test -L "$dir/sym.pid" -a -e "$dir/hard.pid"
done

echo "check_daemon_files: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
