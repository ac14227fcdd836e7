#!/bin/bash
# check_scan_mode - postsift-filter -m scan, the hand test
#
# With a private signature database (EICAR as an .ndb line, and the
# ClamAV test file's MD5 when sigtool and clamav-testfiles are there):
# a clean message, an EICAR attachment, a banned .exe name, EICAR in a
# nested message (part 2.2), a malformed (ambiguous) message, a
# nonexistent file and standard input give the right exit status (0
# clean, 1 found, 2 error), verdict and parts; --json is one valid JSON
# object a line; nothing is left in TMPDIR; it runs as another user.
#
# Then the acceptance check: for every message of the corpus (the ones
# above, every file of clamav-testfiles and every sample of
# tests/data/samples/mksamples, each attached to a message) the verdict
# of -m scan is the verdict that pipe mode logs for the same file.
# Pipe mode runs the real delivery path with reinject_target pointing
# at a closed port: pass and tag then defer (nothing is delivered), and
# the log line says which verdict the mail flow reached. Pipe mode
# refuses root: as root it runs as nobody.
#
# Needs BUILD_DIR (tests/run sets it). Prints
# "check_scan_mode: N passed, N failed".

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$top/build}
filter=$build/bin/postsift-filter
pass=0
fail=0
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
export ASAN_OPTIONS
EICAR='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
TESTFILES=/usr/share/clamav-testfiles

if [ ! -x "$filter" ]; then
    echo "check_scan_mode: no $filter (run make)" >&2
    echo "check_scan_mode: 0 passed, 1 failed"
    exit 1
fi
dir=$(mktemp -d /tmp/check_scan_mode.XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
chmod 755 "$dir"
mkdir "$dir/db" "$dir/msgs" "$dir/tmp"
chmod 1777 "$dir/tmp"
printf 'Eicar-Test-Signature:0:0:%s\n' \
    "$(printf '%s' "$EICAR" | od -An -v -tx1 | tr -d ' \n')" > "$dir/db/test.ndb"
if command -v sigtool >/dev/null && [ -r "$TESTFILES/clam.exe" ]; then
    sigtool --md5 "$TESTFILES/clam.exe" > "$dir/db/test.hdb"
fi
chmod -R a+rX "$dir/db"
export TMPDIR=$dir/tmp

ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*" >&2; fail=$((fail + 1)); }

# check NAME CMD... - CMD succeeds
check() {
    local name=$1
    shift
    if "$@"; then ok; else bad "$name"; fi
}

# scan ARGS... - the hand test with the private database; output in
# $dir/out, status in $rc
scan() {
    "$filter" -m scan -c /dev/null -o "clamav_database_directory=$dir/db" "$@" \
        > "$dir/out" 2> "$dir/err"
    rc=$?
}

# attach NAME FILE OUT - a message with FILE attached as NAME, base64
attach() {
    {
        printf 'From: s@example.org\nTo: r@example.net\nSubject: %s\n' "$1"
        printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n'
        printf -- '--b\nContent-Type: text/plain\n\nsee the attachment\n--b\n'
        printf 'Content-Type: application/octet-stream; name="%s"\n' "$1"
        printf 'Content-Disposition: attachment; filename="%s"\n' "$1"
        printf 'Content-Transfer-Encoding: base64\n\n'
        base64 < "$2"
        printf -- '--b--\n'
    } > "$3"
}

m=$dir/msgs
printf 'From: s@example.org\nTo: r@example.net\nSubject: hello\n\nJust text.\n' > "$m/clean.eml"
printf '%s' "$EICAR" > "$dir/eicar.com"
attach eicar.com "$dir/eicar.com" "$m/eicar.eml"
printf 'not really a program\n' > "$dir/invoice"
attach invoice.pdf.exe "$dir/invoice" "$m/banned.eml"
{
    printf 'From: s@example.org\nSubject: fwd\nMIME-Version: 1.0\n'
    printf 'Content-Type: multipart/mixed; boundary="o"\n\n--o\nContent-Type: text/plain\n\n'
    printf 'forwarded\n--o\nContent-Type: message/rfc822\n\n'
    cat "$m/eicar.eml"
    printf -- '--o--\n'
} > "$m/nested.eml"
{
    printf 'Subject: two boundaries\nMIME-Version: 1.0\n'
    printf 'Content-Type: multipart/mixed; boundary="a"; boundary="b"\n\n'
    printf -- '--a\nContent-Type: text/plain\n\nx\n--b\nContent-Type: text/plain\n\ny\n--a--\n'
} > "$m/malformed.eml"

# -- the hand test, message by message --------------------------------

scan "$m/clean.eml"
check "clean: exit 0 ($rc)" test "$rc" -eq 0
check "clean: part 1 text/plain" grep -q "^$m/clean.eml: part 1: name=\"\", declared=.*, type=text/plain, size=11, finding=clean\$" "$dir/out"
check "clean: verdict line" grep -q "^$m/clean.eml: verdict=clean, action=pass, size=[0-9]*, parts=1\$" "$dir/out"

scan "$m/eicar.eml"
check "eicar: exit 1 ($rc)" test "$rc" -eq 1
check "eicar: part 2 infected" grep -q "part 2: name=\"eicar.com\", declared=application/octet-stream, type=text/plain, size=68, finding=infected \"Eicar-Test-Signature" "$dir/out"
check "eicar: part 1 clean" grep -q "part 1: name=\"\", declared=text/plain, type=text/plain, size=18, finding=clean\$" "$dir/out"
check "eicar: verdict" grep -q "verdict=infected, action=quarantine, size=[0-9]*, parts=2, detail=\"Eicar-Test-Signature.* in part 2 " "$dir/out"
check "eicar: nothing quarantined, nothing left in TMPDIR" test -z "$(ls -A "$dir/tmp")"

scan "$m/banned.eml"
check "banned: exit 1 ($rc)" test "$rc" -eq 1
check "banned: part 2 banned" grep -q "part 2: name=\"invoice.pdf.exe\", .*finding=banned \"banned name" "$dir/out"
check "banned: verdict" grep -q "verdict=banned, action=reject, " "$dir/out"

scan "$m/nested.eml"
check "nested: exit 1 ($rc)" test "$rc" -eq 1
check "nested: IMAP part 2.2" grep -q "part 2.2: name=\"eicar.com\", .*finding=infected" "$dir/out"
check "nested: IMAP part 2.1" grep -q "part 2.1: name=\"\", .*finding=clean" "$dir/out"

scan "$m/malformed.eml"
check "malformed: exit 1 ($rc)" test "$rc" -eq 1
check "malformed: unchecked, ambiguous" grep -q "verdict=unchecked, action=tag, .*detail=\"ambiguous MIME" "$dir/out"

scan "$m/clean.eml" "$dir/no-such-file" "$m/eicar.eml"
check "nonexistent: exit 2 ($rc)" test "$rc" -eq 2
check "nonexistent: said so" grep -q "^$dir/no-such-file: error: No such file or directory\$" "$dir/out"
check "nonexistent: the others still scanned" test "$(grep -c ': verdict=' "$dir/out")" -eq 2

scan - < "$m/eicar.eml"
check "stdin: exit 1 ($rc)" test "$rc" -eq 1
check "stdin: named stdin" grep -q "^stdin: verdict=infected, " "$dir/out"
scan < "$m/clean.eml"
check "no operand: stdin, exit 0 ($rc)" test "$rc" -eq 0

scan -x "$m/clean.eml"
check "bad option: exit 2 ($rc)" test "$rc" -eq 2
scan -o no_such_setting=1 "$m/clean.eml"
check "bad setting: exit 2 ($rc)" test "$rc" -eq 2

scan --json "$m/clean.eml" "$m/eicar.eml" "$m/nested.eml" "$dir/no-such-file"
check "json: exit 2 ($rc)" test "$rc" -eq 2
check "json: valid, one object a line" python3 -c '
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
assert len(objs) == 4, objs
clean, eicar, nested, missing = objs
assert clean["verdict"] == "clean" and clean["action"] == "pass", clean
assert [p["part"] for p in clean["parts"]] == ["1"], clean
assert eicar["verdict"] == "infected" and eicar["virus"].startswith("Eicar-Test-Signature"), eicar
p2 = eicar["parts"][1]
assert (p2["part"], p2["name"], p2["declared"], p2["type"], p2["size"], p2["finding"]) == \
    ("2", "eicar.com", "application/octet-stream", "text/plain", 68, "infected"), p2
assert [p["part"] for p in nested["parts"]] == ["1", "2.1", "2.2"], nested
assert missing["verdict"] is None and "No such file" in missing["error"], missing
' "$dir/out"
check "json: python3 -m json.tool reads it" python3 -m json.tool --json-lines "$dir/out" /dev/null

# a path with a control character and a byte that is not UTF-8 stays
# valid JSON (escaped, and U+FFFD); a part name like it is (GMime may
# drop or convert such bytes first)
odd=$dir/$(printf 'odd\001\377').eml
cp "$m/clean.eml" "$odd"
printf 'x' > "$dir/x"
attach "$(printf 'bad\001\377name.txt')" "$dir/x" "$m/oddname.eml"
scan --json "$odd" "$m/oddname.eml"
rm -f "$odd"
check "json: odd names escaped" python3 -c '
import json, sys
o, p = [json.loads(l) for l in open(sys.argv[1])]
assert o["file"].endswith("/odd\u0001\ufffd.eml"), o["file"]
n = p["parts"][1]["name"]
assert n.startswith("bad") and n.endswith("name.txt"), n
' "$dir/out"

# another user: no root needed, nothing refused, the private spool in its TMPDIR
if [ "$(id -u)" -eq 0 ] && getent passwd nobody >/dev/null && command -v runuser >/dev/null; then
    chmod -R a+rX "$m"
    out=$(runuser -u nobody -- env TMPDIR="$dir/tmp" "$filter" -m scan -c /dev/null \
        -o "clamav_database_directory=$dir/db" "$m/eicar.eml" 2>&1)
    rc=$?
    check "as nobody: exit 1 ($rc: $out)" test "$rc" -eq 1
    check "as nobody: infected" eval 'printf "%s\n" "$out" | grep -q "verdict=infected"'
fi
check "nothing left in TMPDIR" test -z "$(ls -A "$dir/tmp")"

# -- acceptance: the verdict of the mail flow -------------------------

n=0
if [ -d "$TESTFILES" ]; then
    for f in "$TESTFILES"/*; do
        [ -f "$f" ] || continue
        n=$((n + 1))
        attach "$(basename "$f")" "$f" "$m/testfile-$n.eml"
    done
fi
if python3 "$top/tests/data/samples/mksamples" "$dir/samples" >/dev/null 2>&1; then
    for f in "$dir/samples"/*; do
        [ -f "$f" ] || continue
        n=$((n + 1))
        attach "$(basename "$f")" "$f" "$m/sample-$n.eml"
    done
fi
chmod -R a+rX "$m"

# pipe mode: as the user pipe(8) would run it
pdir=$dir/pipe
mkdir "$pdir"
as_pipe_user() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
    chown nobody "$pdir"
    as_pipe_user() { runuser -u nobody -- "$@"; }
fi
printf 'spool_dir = %s/spool\nquarantine_dir = %s/q\nlog_file = %s/log\n' "$pdir" "$pdir" "$pdir" > "$dir/pipe.conf"
printf 'reinject_target = [127.0.0.1]:1\nclamav_database_directory = %s/db\n' "$dir" >> "$dir/pipe.conf"
chmod 644 "$dir/pipe.conf"

i=0
: > "$dir/want"
for f in "$m"/*.eml; do
    i=$((i + 1))
    as_pipe_user "$filter" -m pipe -c "$dir/pipe.conf" -q "CMP$i" -f s@example.org -- r@example.net \
        < "$f" > /dev/null 2>&1
    printf '%s %s\n' "$f" "$(sed -n "s/.*: CMP$i: verdict=\([a-z]*\), .*/\1/p" "$pdir/log" 2>/dev/null)" \
        >> "$dir/want"
done
scan --json "$m"/*.eml
check "corpus: $i messages, each a verdict in pipe mode's log" \
    test "$(awk 'NF == 2' "$dir/want" | wc -l)" -eq "$i"
check "corpus: -m scan gives pipe mode's verdict for every message" python3 -c '
import json, sys
want = dict(l.split() for l in open(sys.argv[1]) if len(l.split()) == 2)
got = {o["file"]: o["verdict"] for o in map(json.loads, open(sys.argv[2]))}
bad = [(f, want.get(f), got.get(f)) for f in sorted(set(want) | set(got)) if want.get(f) != got.get(f)]
for b in bad:
    print("  %s: pipe %s, scan %s" % b, file=sys.stderr)
assert not bad and len(got) == int(sys.argv[3])
kinds = set(got.values())
assert {"clean", "infected", "banned", "unchecked"} <= kinds, kinds
' "$dir/want" "$dir/out" "$i"
check "corpus: -m scan exit 1 (findings, no error: $rc)" test "$rc" -eq 1

echo "check_scan_mode: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
