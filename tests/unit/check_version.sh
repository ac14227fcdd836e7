#!/bin/sh
# check_version - every program answers --version with "PROGRAM VERSION"
# and exit 0
#
# VERSION is the GNUmakefile's (the one place it is written). For each of
# postsift-filter, postsift-reinject, postsift-smtpcli, postsift-check,
# postsift-policy (BUILD_DIR/bin) and scripts/postsift-postfix: the one
# line on stdout, nothing on stderr, exit 0 (no configuration is read:
# /etc/postsift need not exist). Also:
# --version anywhere but first is not the option (postsift-filter in pipe
# mode must never take a recipient "--version" after "--" for it).
# Prints "check_version: N passed, N failed".

name=check_version
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$top/build}
pass=0
fail=0
# Under SAN=1 what a program leaves allocated at exit is not checked here.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
export ASAN_OPTIONS

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

version=$(sed -n 's/^VERSION *:*= *//p' "$top/GNUmakefile")
ok "the GNUmakefile has a VERSION ($version)" test -n "$version"
dir=$(mktemp -d /tmp/$name.XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT

# version_of PROGRAM PATH - the checks for one program
version_of() {
    rc=0
    "$2" --version > "$dir/out" 2> "$dir/err" || rc=$?
    ok "$1 --version: exit 0 (exit $rc)" test "$rc" -eq 0
    ok "$1 --version: prints '$1 $version' ($(cat "$dir/out"))" \
        test "$(cat "$dir/out")" = "$1 $version"
    ok "$1 --version: nothing on stderr ($(head -n 2 "$dir/err"))" test ! -s "$dir/err"
}

for p in postsift-filter postsift-reinject postsift-smtpcli postsift-check postsift-policy; do
    if [ -x "$build/bin/$p" ]; then
        version_of "$p" "$build/bin/$p"
    else
        ok "$build/bin/$p exists (run make)" false
    fi
done
# the script asks postsift-check, beside it or in the tree's build/
mkdir -p "$dir/sbin"
cp "$top/scripts/postsift-postfix" "$build/bin/postsift-check" "$dir/sbin/"
version_of postsift-postfix "$dir/sbin/postsift-postfix"

rc=0
"$build/bin/postsift-filter" -c "$dir/absent.conf" --version > "$dir/out" 2>&1 || rc=$?
ok "postsift-filter: --version not first is not the option (exit $rc)" \
    sh -c "[ $rc -ne 0 ] && ! grep -qx 'postsift-filter $version' '$dir/out'"

echo "$name: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
