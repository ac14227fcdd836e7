#!/bin/sh
# check_exit_contract - the first line pipe(8) reads on every usage error
#
# pipe(8) captures standard output and standard error together and puts
# the first line in the defer reason, so on every usage error of
# postsift-filter (pipe mode) and postsift-reinject (its sendmail drop-in
# mode) that first line must be the "4.x.x text" line and the exit
# status 75, whatever the program or the C library would like to say
# first. Also: postsift-reinject takes its message from a pipe, as a
# shell filter gives it ("... | postsift-reinject -f S -- R"), not only
# from a file. Needs BUILD_DIR (tests/run sets it). Prints
# "check_exit_contract: N passed, N failed".

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$top/build}
filter=$build/bin/postsift-filter
reinject=$build/bin/postsift-reinject
pass=0
fail=0
# Under SAN=1 the programs are sanitizer builds; what they leave allocated
# when they exit() is not what this checks, and it would change the status.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
export ASAN_OPTIONS

for p in "$filter" "$reinject"; do
    if [ ! -x "$p" ]; then
        echo "check_exit_contract: no $p (run make)" >&2
        echo "check_exit_contract: 0 passed, 1 failed"
        exit 1
    fi
done
dir=$(mktemp -d /tmp/check_exit_contract.XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
conf=$dir/ps.conf
printf 'spool_dir = %s/spool\nquarantine_dir = %s/q\nreinject_target = [127.0.0.1]:1\n' \
    "$dir" "$dir" > "$conf"
printf 'Subject: t\n\nbody\n' > "$dir/msg"

# expect STATUS FIRST_LINE_PATTERN NAME PROGRAM ARGS... - run with stdout
# and stderr merged (as pipe(8) reads them), stdin from the message
expect() {
    want=$1 pattern=$2 name=$3
    shift 3
    "$@" < "$dir/msg" > "$dir/out" 2>&1
    rc=$?
    first=$(head -n 1 "$dir/out")
    if [ "$rc" -ne "$want" ]; then
        echo "FAIL $name: exit $rc, want $want (first line: $first)" >&2
        fail=$((fail + 1))
    elif ! printf '%s\n' "$first" | grep -Eq "$pattern"; then
        echo "FAIL $name: first line \"$first\" does not match $pattern" >&2
        fail=$((fail + 1))
    else
        pass=$((pass + 1))
    fi
}

dsn='^4\.[0-9]{1,3}\.[0-9]{1,3} '
f="$filter -m pipe -c $conf"
r="$reinject -c $conf"
# shellcheck disable=SC2086 # $f and $r are words on purpose
{
    expect 75 "$dsn.*unknown option -z" "filter: unknown option" $f -z -f s@x -- r@y
    expect 75 "$dsn.*unknown option -z" "filter: unknown option in a cluster" $f -vz -f s@x -- r@y
    expect 75 "$dsn.*-f" "filter: -f without its value" $f -f
    expect 75 "$dsn.*-c" "filter: -c without its value" "$filter" -m pipe -f s@x -c
    expect 75 "$dsn" "filter: -m without its value" "$filter" -m
    expect 75 "$dsn" "filter: -X without =" $f -X addr -f s@x -- r@y
    expect 75 "$dsn.*unknown attribute" "filter: -X unknown attribute" $f -X bogus=1 -f s@x -- r@y
    expect 75 "$dsn" "filter: no -m" "$filter" -c "$conf" -f s@x -- r@y
    expect 75 "$dsn" "filter: unknown mode" "$filter" -m bogus -c "$conf" -f s@x -- r@y
    expect 75 "$dsn" "filter: -d without smtpd" $f -d -f s@x -- r@y
    expect 75 "$dsn" "filter: no -f" $f -- r@y
    expect 75 "$dsn" "filter: no recipient" $f -f s@x
    expect 75 "$dsn" "filter: bad -o" $f -o nonsense -f s@x -- r@y
    expect 75 "$dsn.*banned_types" "filter: bad banned_types pattern" $f -o "banned_types=application/[" -f s@x -- r@y
    expect 75 "$dsn.*unknown option -z" "reinject: unknown option" $r -z -f s@x -- r@y
    expect 75 "$dsn.*--bogus" "reinject: unknown long option" $r --bogus -f s@x -- r@y
    expect 75 "$dsn.*--list" "reinject: --list with a value" $r --list=x
    expect 75 "$dsn.*--release" "reinject: --release without its id" $r --release
    expect 75 "$dsn.*-f" "reinject: -f without its value" $r -f
    expect 75 "$dsn" "reinject: -X without =" $r -X addr -f s@x -- r@y
    expect 75 "$dsn" "reinject: no -f" $r -- r@y
    expect 75 "$dsn" "reinject: no recipient" $r -f s@x
    expect 75 "$dsn" "reinject: bad -o" $r -o nonsense -f s@x -- r@y
    # A message on a pipe is spooled like one in a file; here the
    # reinjection target refuses the connection (4.4.1), which shows that
    # the message was read.
    printf 'Subject: t\n\nbody\n' | $r -f s@x -- r@y > "$dir/out" 2>&1
    rc=$?
    if [ "$rc" -eq 75 ] && grep -q '^4\.4\.1 ' "$dir/out"; then
        pass=$((pass + 1))
    else
        echo "FAIL reinject: message on a pipe: exit $rc, $(head -n 1 "$dir/out")" >&2
        fail=$((fail + 1))
    fi

    # Envelope addresses longer than any fixed buffer: relayed whole (here
    # to a sendmail that records its arguments), or, past the limit of
    # 16384 bytes, a 4.x.x refusal; never the null sender.
    printf '#!/bin/sh\nprintf "%%s\\n" "$@" > "%s/argv"\ncat > /dev/null\n' "$dir" > "$dir/sendmail"
    chmod 755 "$dir/sendmail"
    long=$(head -c 3000 /dev/zero | tr '\0' l)@long.example
    $r -o reinject_target=sendmail -o "sendmail_path=$dir/sendmail" -f "$long" -- "r$long" \
        < "$dir/msg" > "$dir/out" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ] && [ "$(sed -n 4p "$dir/argv")" = "$long" ] &&
        [ "$(sed -n 6p "$dir/argv")" = "r$long" ]; then
        pass=$((pass + 1))
    else
        echo "FAIL reinject: 3012-byte addresses: exit $rc, sendmail got -f \"$(sed -n 4p "$dir/argv" | cut -c1-40)\"" >&2
        fail=$((fail + 1))
    fi
    huge=$(head -c 17000 /dev/zero | tr '\0' h)@long.example
    expect 75 '^4\.1\.7 .*too long' "reinject: sender over the limit" \
        $r -o reinject_target=sendmail -o "sendmail_path=$dir/sendmail" -f "$huge" -- r@y
    expect 75 '^4\.1\.3 .*too long' "reinject: recipient over the limit" \
        $r -o reinject_target=sendmail -o "sendmail_path=$dir/sendmail" -f s@x -- r@y "$huge"
}

echo "check_exit_contract: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
