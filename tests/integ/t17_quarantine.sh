#!/bin/bash
# t17_quarantine - the quarantine tools of postsift-reinject against a
# private Postfix in the simple design (virus_action=quarantine): EICAR
# messages are quarantined; --list shows time, size, verdict, detail and
# envelope; --show prints the envelope and the header (--full the whole
# message); four concurrent --release of one message deliver one copy;
# --release --to sends to another address only; --expire removes only the
# older entry; a crashed release (ID.releasing) is listed stale and needs
# --force; --delete removes an entry without sending it.

. "$(dirname "$0")/lib.sh"
need_root
plan 54
need_prog postfix postconf smtp-sink swaks runuser
getent passwd "$FILTER_USER" >/dev/null || die "no user $FILTER_USER (run scripts/install-deps)"

# reinject ARGS... - postsift-reinject as the filter user, with $PS_CONF
reinject() { runuser -u "$FILTER_USER" -- "$BUILD_DIR/bin/postsift-reinject" -c "$PS_CONF" "$@"; }

# qlist - the quarantine entries, one a line
qlist() { reinject --list | grep -v '^quarantine .* is empty$'; }

# qid_of SENDER - the quarantine id of the entry from SENDER
qid_of() { qlist | awk -v s="from=<$1>" '$2 == s { print $1 }'; }

# delivered_to RCPT - how many sink messages have RCPT as a recipient
delivered_to() {
	local f n=0
	for f in $(sink_messages); do
		n=$((n + $(sink_rcpts "$f" | grep -cxF "$1")))
	done
	echo "$n"
}

pf_new quar
ps_conf virus_action=quarantine
ps_install || die "postsift-postfix install failed: $(tail -n 5 "$PF_DIR/install.log")"
sink_start
pf_start
Q=$PF_DIR/ps/quarantine

# --- five EICAR messages, from five senders ---------------------------------
mk_eicar "$PF_DIR/eicar.com"
for i in 1 2 3 4 5; do
	mk_msg_attach "$PF_DIR/v$i.eml" "$PF_DIR/eicar.com" "eicar$i.com"
	check "submit message $i" send_msg "$PF_DIR/v$i.eml" "s$i@example.com" "r$i@example.net"
done
# the second one has three recipients
mk_msg_attach "$PF_DIR/v6.eml" "$PF_DIR/eicar.com" eicar6.com
# says TEXT WORD - TEXT (any characters) contains WORD
says() { printf '%s\n' "$1" | grep -qF -- "$2"; }

check "submit a message for three recipients" send_msg "$PF_DIR/v6.eml" s6@example.com \
	a6@example.net b6@example.net c6@example.net
require "six entries in the quarantine" wait_for 60 eval 'test "$(qlist | wc -l)" -eq 6'
check "queue empty" wait_queue_empty 20
check "nothing reached the sink" test "$(sink_count)" -eq 0
for i in 1 2 3 4 5 6; do
	eval "id$i=\$(qid_of s$i@example.com)"
done
check "every sender has its entry" test -n "$id1" -a -n "$id2" -a -n "$id3" -a -n "$id4" \
	-a -n "$id5" -a -n "$id6"

# --- list -----------------------------------------------------------------------
line=$(qlist | grep "^$id1 ")
check "list: envelope and verdict" eval "printf '%s\n' '$line' | \
	grep -q '^$id1 from=<s1@example.com> to=<r1@example.net> verdict=infected detail=\"Eicar-Test-Signature'"
check "list: the log line's quarantine id" \
	grep -q "verdict=infected, action=quarantine, .*status=quarantined ($id1)" "$PS_LOG"
stamp=$(printf '%s\n' "$line" | sed -n 's/.* time=\([^ ]*\) .*/\1/p')
check "list: time in ISO 8601 with the local offset ($stamp)" \
	eval "printf '%s\n' '$stamp' | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}$'"
check "list: time is within the last ten minutes" \
	test $(($(date +%s) - $(date -d "$stamp" +%s))) -lt 600
size=$(printf '%s\n' "$line" | sed -n 's/.* size=\([0-9]*\) .*/\1/p')
check "list: size is the stored message's ($size)" \
	test "$size" = "$(sed '1,/^$/d' "$Q/$id1" | wc -c)" -a "$size" -gt "$(wc -c < "$PF_DIR/v1.eml")"
check "list: three recipients listed" eval "qlist | grep -q '^$id6 from=<s6@example.com> to=<a6@example.net>,<b6@example.net>,<c6@example.net> verdict=infected '"
check "list --json: one object per entry" \
	eval 'test "$(reinject --list --json | grep -c "^{\"id\":\".*\"recipients\":\[.*\]}$")" -eq 6'
check "list --json: parses as JSON" eval "reinject --list --json | python3 -c '
import json, sys
for l in sys.stdin: o = json.loads(l); assert o[\"verdict\"] == \"infected\" and o[\"size\"] > 0
'"

# --- show ---------------------------------------------------------------------
reinject --show "$id1" > "$PF_DIR/show.out" 2>&1
check "show: exit 0" test $? -eq 0
check "show: envelope" eval "grep -qx 'sender: s1@example.com' '$PF_DIR/show.out' && \
	grep -qx 'recipient: r1@example.net' '$PF_DIR/show.out' && grep -qx 'verdict: infected' '$PF_DIR/show.out'"
check "show: the header" grep -qx 'Subject: postsift attachment test eicar1.com' "$PF_DIR/show.out"
b64=$(base64 -w 76 "$PF_DIR/eicar.com" | head -n 1)
check "show: not the body" eval "! grep -qF '$b64' '$PF_DIR/show.out'"
check "show --full: the body" eval "reinject --show '$id1' --full | grep -qxF '$b64'"
check "show: an unknown id fails" eval "! reinject --show AAAAAAAAAAAAAAAA >/dev/null 2>&1"

# --- four concurrent releases of one message -----------------------------------
pids=()
for i in 1 2 3 4; do
	( reinject --release "$id1" > "$PF_DIR/rel.$i" 2>&1; echo $? > "$PF_DIR/rc.$i" ) &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
wins=$(cat "$PF_DIR"/rc.[1-4] | grep -cx 0)
check "race: exactly one release succeeded (exit codes $(cat "$PF_DIR"/rc.[1-4] | tr '\n' ' '))" \
	test "$wins" -eq 1
check "race: the others exit 75" test "$(cat "$PF_DIR"/rc.[1-4] | grep -cx 75)" -eq 3
check "race: delivered" sink_wait 1 30
check "race: queue empty" wait_queue_empty 20
sleep 2
check "race: exactly one copy at the sink" test "$(delivered_to r1@example.net)" -eq 1
m=$(sink_messages | head -n 1)
check "race: X-Postsift-Released" grep -q "^X-Postsift-Released: $id1 from quarantine (infected" "$m"
check "race: left the quarantine" eval "! ls -A '$Q' | grep -q '^$id1'"
sink_clear

# --- release to another address ------------------------------------------------
check "to: release exit 0" reinject --release "$id6" --to other@example.org
check "to: delivered" sink_wait 1 30
check "to: queue empty" wait_queue_empty 20
sleep 1
check "to: one message" test "$(sink_count)" -eq 1
m=$(sink_messages | head -n 1)
check "to: only the other address" test "$(sink_rcpts "$m")" = other@example.org
check "to: original sender" test "$(sink_sender "$m")" = s6@example.com
check "to: left the quarantine" eval "! qlist | grep -q '^$id6 '"
sink_clear

# --- expire: only the older one goes -------------------------------------------
touch -d '3 days ago' "$Q/$id2"
reinject --expire 2 > "$PF_DIR/expire.out" 2> "$PF_DIR/expire.err"
check "expire: exit 0" test $? -eq 0
check "expire: prints what it removed" grep -q "^expired $id2 from=<s2@example.com> " "$PF_DIR/expire.out"
check "expire: removed one, said nothing else (for cron)" \
	test "$(wc -l < "$PF_DIR/expire.out")" -eq 1 -a ! -s "$PF_DIR/expire.err"
check "expire: the older one is gone" test ! -e "$Q/$id2"
check "expire: the newer ones stay" test -e "$Q/$id3" -a -e "$Q/$id4" -a -e "$Q/$id5"

# --- a release that crashed midway ---------------------------------------------
mv "$Q/$id3" "$Q/$id3.releasing"
check "stale: listed as stale" eval "qlist | grep -q '^$id3 from=<s3@example.com> .* state=stale$'"
out=$(reinject --release "$id3" 2>&1)
check "stale: a release without --force refuses ($out)" eval "! reinject --release '$id3' >/dev/null 2>&1"
check "stale: says to use --force" says "$out" --force
check "stale: --force releases it" reinject --release "$id3" --force
check "stale: delivered once" sink_wait 1 30
check "stale: queue empty" wait_queue_empty 20
sleep 1
check "stale: one copy to the original recipient" test "$(delivered_to r3@example.net)" -eq 1
check "stale: gone" test ! -e "$Q/$id3.releasing" -a ! -e "$Q/$id3"
sink_clear

# --- delete ---------------------------------------------------------------------
check "delete: two ids" reinject --delete "$id4" "$id5"
check "delete: the quarantine is empty" eval "reinject --list | grep -qx 'quarantine $Q is empty'"
sleep 1
check "delete: nothing sent" test "$(sink_count)" -eq 0
finish
