#!/bin/bash
# t13_pipe_direct - postsift-filter -m pipe run directly, as pipe(8) would
# run it (user postsift, message on stdin), without a Postfix: the exit
# contract on every path that needs no downstream (usage and config
# errors, root, pipe_deadline), all of stdin read before exit 0, and -n.

. "$(dirname "$0")/lib.sh"
need_root
plan 42
need_prog nc runuser

FILTER=$BUILD_DIR/bin/postsift-filter
testroot_init
D=$TESTROOT/direct
mkdir -p "$D/spool" "$D/q"
chown -R "$FILTER_USER" "$D"
chmod 755 "$D"
clamav_testdb "$D/sigs"
cat > "$D/ps.conf" <<CONF
spool_dir = $D/spool
quarantine_dir = $D/q
log_file = $D/postsift.log
clamav_database_directory = $D/sigs
reinject_target = [127.0.0.1]:1
CONF
chmod 644 "$D/ps.conf"
mk_msg "$D/clean.eml"

# run_filter OUTFILE ARGS... - the filter as the postsift user, stdin from
# the caller; the exit status is the filter's
run_filter() {
	local out=$1
	shift
	runuser -u "$FILTER_USER" -- "$FILTER" "$@" > "$out" 2>/dev/null
}

# expect STATUS DSN_PREFIX NAME ARGS... (stdin: the clean message)
expect() {
	local want=$1 dsn=$2 name=$3 rc
	shift 3
	run_filter "$D/out" "$@" < "$D/clean.eml"
	rc=$?
	check "$name: exit $want (got $rc)" test "$rc" -eq "$want"
	check "$name: first line starts with $dsn" grep -q "^$dsn" "$D/out"
}

expect 75 4.3.5 "no -f" -m pipe -c "$D/ps.conf" -- r@example.net
expect 75 4.3.5 "no recipients" -m pipe -c "$D/ps.conf" -f s@example.com
expect 75 4.3.5 "no -m" -c "$D/ps.conf" -f s@example.com -- r@example.net
expect 75 4.3.5 "unknown mode" -m bogus -c "$D/ps.conf" -f s@example.com -- r@example.net
expect 75 4.3.5 "unknown option" -m pipe -Z -c "$D/ps.conf" -f s@example.com -- r@example.net
expect 75 4.3.5 "missing config file" -m pipe -c "$D/nonexistent.conf" -f s@example.com -- r@example.net
expect 75 4.3.5 "unknown setting by -o" -m pipe -c "$D/ps.conf" -o no_such_thing=1 -f s@example.com -- r@example.net
expect 75 4.3.5 "bad time value" -m pipe -c "$D/ps.conf" -o pipe_deadline=soon -f s@example.com -- r@example.net
expect 75 4.3.5 "bad action" -m pipe -c "$D/ps.conf" -o virus_action=explode -f s@example.com -- r@example.net
expect 75 4.4.1 "reinjection refused" -m pipe -c "$D/ps.conf" -f s@example.com -- r@example.net
check "config error names the file and line" sh -c "
	printf 'spool_dir = /x\nfrobnicate = 2\n' > '$D/bad.conf'; chmod 644 '$D/bad.conf'
	runuser -u $FILTER_USER -- '$FILTER' -m pipe -c '$D/bad.conf' -f s@x -- r@y < '$D/clean.eml' |
	grep -q '$D/bad.conf, line 2: unknown setting \"frobnicate\"'"

"$FILTER" -m pipe -c "$D/ps.conf" -f s@example.com -- r@example.net < "$D/clean.eml" > "$D/out" 2>/dev/null
rc=$?
check "root is refused with 75" test "$rc" -eq 75
check "root refusal says why" grep -q '^4.3.5 .*must not run as root' "$D/out"

# pipe_deadline: a clamd that accepts and never answers
nc -lkU "$D/hang.sock" > /dev/null 2>&1 &
hang=$!
for _ in $(seq 1 50); do [ -S "$D/hang.sock" ] && break; sleep 0.1; done
chmod 777 "$D/hang.sock"
start=$SECONDS
expect 75 4.4.7 "pipe_deadline" -m pipe -c "$D/ps.conf" -o scanner=clamd:unix:$D/hang.sock \
	-o clamd_timeout=300s -o pipe_deadline=2s -f s@example.com -- r@example.net
check "pipe_deadline: gave up within 10 s" test $((SECONDS - start)) -lt 10
kill "$hang" 2>/dev/null
wait "$hang" 2>/dev/null
check "pipe_deadline: no spool file left" test -z "$(ls -A "$D/spool")"

# All of stdin is read before exit 0, even when the message is discarded
# unread (oversize with oversize_action=discard): the writer never sees
# EPIPE. 5 MB through a pipe.
head -c 5000000 /dev/zero | tr '\0' 'x' | fold -w 70 > "$D/big.txt"
{ cat "$D/clean.eml"; cat "$D/big.txt"; } > "$D/big.eml"
( set -o pipefail
  cat "$D/big.eml" | runuser -u "$FILTER_USER" -- "$FILTER" -m pipe -c "$D/ps.conf" \
	-o message_size_limit=100000 -o oversize_action=discard \
	-f s@example.com -- r@example.net > "$D/out" 2>/dev/null
  echo "$?" > "$D/rc" )
check "discard: exit 0 and the whole pipe consumed" test "$(cat "$D/rc")" = 0
check "discard: says discarded" grep -q '^2.0.0 discarded' "$D/out"

# -n prints only what differs from the defaults; -a prints everything
runuser -u "$FILTER_USER" -- "$FILTER" -n -c "$D/ps.conf" -o pipe_deadline=100s > "$D/n.out"
check "-n lists settings from the file" grep -qx "spool_dir = $D/spool" "$D/n.out"
check "-n lists -o overrides" grep -qx "pipe_deadline = 100s" "$D/n.out"
check "-n omits defaults" sh -c "! grep -q '^virus_action' '$D/n.out'"
"$FILTER" -n -a -c "$D/ps.conf" > "$D/a.out"
check "-n -a lists every setting" \
	test "$(wc -l < "$D/a.out")" -eq "$(grep -c '^    {"[a-z_]*", CFG_' "$TOP/lib/params.c")"

# quarantine: an infected message is stored 0600 in a 0700 directory
mk_eicar "$D/eicar.bin"
mk_msg_attach "$D/eicar.eml" "$D/eicar.bin" eicar.com
run_filter "$D/out" -m pipe -c "$D/ps.conf" -q ABC123 -f s@example.com -- r@example.net < "$D/eicar.eml"
rc=$?
check "infected: exit 0 (quarantined)" test "$rc" -eq 0
check "infected: says quarantined" grep -q '^2.0.0 quarantined as [A-Za-z0-9]*: infected: Eicar-Test-Signature' "$D/out"
check "infected: quarantine file is 0600" \
	test "$(stat -c %a "$D/q/$(ls "$D/q" | head -n 1)")" = 600
check "infected: one log line with the queue id" \
	test "$(grep -c 'ABC123: verdict=infected, action=quarantine, .*, from=<s@example.com>, to=<r@example.net>$' "$D/postsift.log")" -eq 1
check "infected: reject action exits 69 with 5.7.1" sh -c "
	runuser -u $FILTER_USER -- '$FILTER' -m pipe -c '$D/ps.conf' -o virus_action=reject \
		-f s@example.com -- r@example.net < '$D/eicar.eml' > '$D/out'; test \$? -eq 69 &&
	grep -q '^5.7.1 message content rejected: infected: Eicar-Test-Signature' '$D/out'"

# Envelope addresses longer than any fixed buffer: relayed whole (here to
# a sendmail that records its arguments), never as the null sender; past
# 16384 bytes a 4.1.7 deferral.
printf '#!/bin/sh\nprintf "%%s\\n" "$@" > "%s/argv"\ncat > /dev/null\n' "$D" > "$D/sendmail"
chmod 755 "$D/sendmail"
long=$(head -c 3000 /dev/zero | tr '\0' l)@long.example
run_filter "$D/out" -m pipe -c "$D/ps.conf" -o reinject_target=sendmail \
	-o "sendmail_path=$D/sendmail" -f "$long" -- r@example.net < "$D/clean.eml"
check "3012-byte sender: relayed whole" test "$(sed -n 4p "$D/argv")" = "$long"
expect 75 4.1.7 "sender over 16384 bytes" -m pipe -c "$D/ps.conf" -o reinject_target=sendmail \
	-o "sendmail_path=$D/sendmail" -f "$(head -c 17000 /dev/zero | tr '\0' h)@x" -- r@example.net
check "no spool file left" test -z "$(ls -A "$D/spool")"
finish
