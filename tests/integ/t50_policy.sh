#!/bin/bash
# t50_policy - postsift-policy behind check_policy_service of a real
# private Postfix:
#   instance a: two spawn(8) services written here with postconf -M,
#     "policy" (rules with LMDB counters) and "policyr" (a rate rule with
#     Redis counters), both before permit_mynetworks in
#     smtpd_recipient_restrictions;
#   instance b: the daemon (-m daemon, inet) with the Redis rules.
# Signed addresses: one minted by "postsift-policy -m mint" delivers, and
# it is the address computed independently (policy_client.py sign);
# yesterday's date still delivers (the one-day policy_signature_grace),
# the day before is refused "5.1.1 address expired", a tampered signature
# or date and an unsigned address are refused with 5.1.1 at RCPT, and
# nothing is queued for them. FILTER: mail from filter.example goes
# through FILTER smtp:[127.0.0.1]:SINK2 to a second smtp-sink, other mail
# to the instance's sink. Rate (3 per 3s, counted at the first RCPT):
# two SMTP sessions at once (two smtpd processes, two policy processes
# sharing the LMDB file), the 4th message deferred with 4xx, passing
# again after two windows. Redis: a private redis-server; instances a
# (spawn) and b (daemon) share one count of 3 per hour; redis down: 4xx,
# logged. command: exit 0 delivers, exit 1 refuses with the program's
# text, a crash and a hang past policy_command_timeout answer 4xx
# (logged), and an address full of shell metacharacters reaches the
# program's argv verbatim and runs nothing. Bad requests sent straight to
# the daemon (10,000 attributes, a 1 MB value, binary, no empty line) get
# DEFER_IF_PERMIT, are logged, and the daemon goes on serving.

. "$(dirname "$0")/lib.sh"
need_root
plan 55
need_prog postfix postconf smtp-sink python3 runuser redis-server redis-cli
getent passwd "$FILTER_USER" >/dev/null || die "no user $FILTER_USER (run scripts/install-deps)"
POLICY=$BUILD_DIR/bin/postsift-policy
[ -x "$POLICY" ] || die "no $POLICY (run make)"
PC="python3 $TOP/tests/integ/policy_client.py"

# rcpt_reply PORTS SENDER RCPT - the RCPT reply of one transaction
rcpt_reply() { $PC smtp "$1" "$2" "$3" 1 2>&1 | sed -n 's/^1 //p'; }
# replied PATTERN PORTS SENDER RCPT - the RCPT reply matches PATTERN
replied() {
	local r
	r=$(rcpt_reply "$2" "$3" "$4")
	printf '%s\n' "$r" | grep -Eq "$1" || { echo "reply: $r"; return 1; }
}
# logged PATTERN - the policy log has a line matching PATTERN
logged() { wait_for 5 grep -Eq -- "$1" "$PLOG" || { echo "not in $PLOG: $1"; return 1; }; }
# sink2_count - messages at the second sink
sink2_count() { find "$S2DIR" -name 'msg.*' -size +0 | wc -l; }
# wait_bucket W - sleep to the start of the next W-second bucket (epoch)
wait_bucket() { sleep "$(python3 -c "import time; print($1 - time.time() % $1 + 0.05)")"; }
# mint ADDRESS DAYS - postsift-policy -m mint, as the owner of the key
mint() { runuser -u "$FILTER_USER" -- "$POLICY" -m mint -c "$PD/lmdb.conf" "$1" "$2"; }

pf_new a
A_PORT=$PF_SMTP_PORT
PD=$TESTROOT/policy
[ -n "$TESTROOT" ] && mkdir -p "$PD/rate" "$PD/sink2" "$PD/redis" || die "mkdir $PD"
head -c 32 /dev/urandom | base64 > "$PD/policy.key"
printf '%s\n' '#!/bin/sh' 'case $1 in' \
	'bad@*) echo "5.7.1 refused by the command rule"; exit 1 ;;' \
	'crash@*) kill -SEGV $$ ;;' \
	'hang@*) sleep 30 ;;' \
	'esac' \
	'printf "%s\n" "$1" >> "$(dirname "$0")/cmd.args"' \
	'exit 0' > "$PD/cmd.sh"
chmod 755 "$PD/cmd.sh"
S2PORT=$(free_port)
RPORT=$(free_port)
DPORT=$(free_port)
S2DIR=$PD/sink2
PLOG=$PD/policy.log
: > "$PLOG"
printf '%s\n' "cmd: recipient_domain=cmd.example => command $PD/cmd.sh recipient" \
	"signed: recipient_domain=signed.example => signed_address required" \
	"filt: sender_domain=filter.example => filter smtp:[127.0.0.1]:$S2PORT" \
	"rate: sender_domain=rate.example => rate sender/3/3s" > "$PD/policy.rules"
echo "rrate: sender_domain=redis.example => rate sender/3/1h" > "$PD/redis.rules"
printf '%s\n' "log_file = $PLOG" "policy_rules = $PD/policy.rules" \
	"policy_secret_file = $PD/policy.key" "policy_rate_db = $PD/rate/rate.lmdb" \
	"policy_command_timeout = 2s" "policy_command_cache_ttl = 0" > "$PD/lmdb.conf"
printf '%s\n' "log_file = $PLOG" "policy_rules = $PD/redis.rules" \
	"policy_rate_db = redis:127.0.0.1:$RPORT" "policy_listen = 127.0.0.1:$DPORT" \
	"policy_workers = 3" "policy_pid_file = $PD/policy.pid" \
	"daemon_user = $FILTER_USER" > "$PD/redis.conf"
chown -R "$FILTER_USER" "$PD"
chmod 700 "$PD/rate"
chmod 600 "$PD/policy.key"
chown nobody "$PD/sink2" "$PD/redis"

redis-server --port "$RPORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$PD/redis" \
	>"$PD/redis.log" 2>&1 &
RPID=$!
on_cleanup "kill $RPID 2>/dev/null; wait $RPID 2>/dev/null"
smtp-sink -u nobody -4 -h sink2.postsift.test -d "$S2DIR/msg." "127.0.0.1:$S2PORT" 100 \
	</dev/null >"$PD/sink2.log" 2>&1 &
S2PID=$!
on_cleanup "kill $S2PID 2>/dev/null; wait $S2PID 2>/dev/null"

# spawn(8) services and the restrictions of instance a
pfc -M "policy/unix=policy unix - n n - - spawn user=$FILTER_USER argv=$POLICY -c $PD/lmdb.conf"
pfc -M "policyr/unix=policyr unix - n n - - spawn user=$FILTER_USER argv=$POLICY -c $PD/redis.conf"
pfc -e "policy_time_limit = 3600" \
	"smtpd_recipient_restrictions = check_policy_service unix:private/policy, check_policy_service unix:private/policyr, permit_mynetworks, reject_unauth_destination"
sink_start
pf_start
pf_wait_port "$RPORT" 10 || die "redis-server does not listen"
pf_wait_port "$S2PORT" 10 || die "the second smtp-sink does not listen"
check "the rules load (-m check)" runuser -u "$FILTER_USER" -- "$POLICY" -m check -c "$PD/lmdb.conf"

# ---- signed addresses
today=$(date -u +%Y%m%d)
in10=$(date -u -d '+10 days' +%Y%m%d)
MINTED=$(mint alice@signed.example 10)
check "mint: the address computed independently" \
	test "$MINTED" = "$($PC sign "$PD/policy.key" alice@signed.example "$in10")"
check "signed: delivered" replied '^250' "$A_PORT" s@example.com "$MINTED"
YDAY=$($PC sign "$PD/policy.key" bob@signed.example "$(date -u -d yesterday +%Y%m%d)")
check "signed yesterday: still good (grace)" replied '^250' "$A_PORT" s@example.com "$YDAY"
OLD=$($PC sign "$PD/policy.key" bob@signed.example "$(date -u -d '2 days ago' +%Y%m%d)")
check "signed 2 days ago: 5.1.1 expired" replied '^55[0-9] 5\.1\.1 .*address expired' \
	"$A_PORT" s@example.com "$OLD"
sig=${MINTED#*.}; sig=${sig%@*}
case ${sig:0:1} in a) c=b ;; *) c=a ;; esac
TAMPERED=${MINTED%%.*}.$c${sig:1}@signed.example
check "tampered: 5.1.1 not valid" replied '^55[0-9] 5\.1\.1 .*signature is not valid' \
	"$A_PORT" s@example.com "$TAMPERED"
LATER=${MINTED/+$in10./+$(date -u -d '+20 days' +%Y%m%d).}
check "date changed: 5.1.1 not valid" replied '^55[0-9] 5\.1\.1 .*signature is not valid' \
	"$A_PORT" s@example.com "$LATER"
check "unsigned: 5.1.1" replied '^55[0-9] 5\.1\.1 .*needs a valid signature' \
	"$A_PORT" s@example.com carol@signed.example
TODAY=$(mint dave@signed.example 0)
check "mint 0 days: today's date" eval 'case $TODAY in dave+$today.*) ;; *) false ;; esac'
check "mint 0 days: delivered" replied '^250' "$A_PORT" s@example.com "$TODAY"
check "signed: 3 delivered, nothing queued" eval \
	'sink_wait 3 20 && wait_queue_empty 10 && test "$(sink_count)" -eq 3'
check "signed: the refusal logged" logged "to=<bob\+[0-9]{8}\.[a-z2-7]{8}@signed.example>, state=RCPT, rule=signed, matched=\(recipient_domain=\"signed.example\", recipient=.*action=\"REJECT 5.1.1 address expired\""
sink_clear

# ---- FILTER
check "filter: mail of filter.example accepted" replied '^250' "$A_PORT" x@filter.example r@example.net
check "filter: at the filter's sink" wait_for 20 eval 'test "$(sink2_count)" -eq 1'
check "filter: logged FILTER" logged 'rule=filt, matched=\(sender_domain="filter.example"\), action="FILTER smtp:\[127.0.0.1\]:'
check "other mail accepted" replied '^250' "$A_PORT" x@other.example r@example.net
check "other mail: at the instance's sink" sink_wait 1 20
check "other mail: not at the filter's sink" test "$(sink2_count)" -eq 1
check "filter: nothing at the instance's sink" eval 'wait_queue_empty 10 && test "$(sink_count)" -eq 1'
sink_clear

# ---- rate: 3 per 3 s, two sessions (two smtpd, two policy processes)
wait_bucket 3
$PC smtp "$A_PORT,$A_PORT" r@rate.example x@example.net 4 > "$PD/rate.out" 2>&1
check "rate: messages 1-3 accepted" eval \
	'test "$(grep -c "^[123] 250 " "$PD/rate.out")" -eq 3 || cat "$PD/rate.out"'
check "rate: the 4th deferred with 4xx" grep -q '^4 45[0-9] 4\.7\.1 ' "$PD/rate.out"
check "rate: two policy processes counted" eval \
	'test "$(grep "from=<r@rate.example>.*state=RCPT" "$PLOG" | grep -o "policy\[[0-9]*\]:" | sort -u | wc -l)" -ge 2'
check "rate: the deferral logged" logged 'rule=rate, matched=\(sender_domain="rate.example", sender="r@rate.example"\), action="DEFER_IF_PERMIT", detail="rate'
wait_bucket 3; sleep 3
check "rate: passes after the window" replied '^250' "$A_PORT" r@rate.example x@example.net
check "rate: 4 delivered, nothing queued" eval \
	'sink_wait 4 20 && wait_queue_empty 10 && test "$(sink_count)" -eq 4'
sink_clear

# ---- Redis shared by instance a (spawn) and instance b (daemon)
pf_new b
B_PORT=$PF_SMTP_PORT
pfc -e "smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:$DPORT, permit_mynetworks, reject_unauth_destination"
sink_start b
"$POLICY" -m daemon -F -c "$PD/redis.conf" > "$PD/daemon.out" 2>&1 &
DAEMON=$!
_ps_daemons+=("$DAEMON")
check "daemon: listens" pf_wait_port "$DPORT" 15
pf_start b
pf_use a
check "redis: 1st via a" replied '^250' "$A_PORT" u@redis.example x@example.net
check "redis: 2nd via b" replied '^250' "$B_PORT" u@redis.example x@example.net
check "redis: 3rd via a" replied '^250' "$A_PORT" u@redis.example x@example.net
check "redis: 4th via b deferred" replied '^45[0-9] 4\.7\.1' "$B_PORT" u@redis.example x@example.net
check "redis: 5th via a deferred" replied '^45[0-9] 4\.7\.1' "$A_PORT" u@redis.example x@example.net
check "redis: the counter in redis is 3" eval \
	'test "$(redis-cli -p "$RPORT" HGET "postsift:rrate|u@redis.example" cur)" = 3'
check "redis: the counter expires" eval \
	'ttl=$(redis-cli -p "$RPORT" TTL "postsift:rrate|u@redis.example"); test "$ttl" -gt 0 && test "$ttl" -le 7200'
kill "$RPID"; wait "$RPID" 2>/dev/null
check "redis down: 4xx" replied '^45[0-9] 4\.7\.1' "$A_PORT" w@redis.example x@example.net
check "redis down: logged" logged 'warning: rule rrate: policy_rate_db: .*redis.*answering DEFER_IF_PERMIT'
check "redis: 2 at a's sink, 1 at b's, nothing queued" eval \
	'sink_wait 2 20 a && sink_wait 1 20 b && wait_queue_empty 10 && test "$(sink_count a)" -eq 2 && test "$(sink_count b)" -eq 1'
sink_clear a

# ---- command
rm -f /tmp/xuid=*
check "command: exit 0 delivers" replied '^250' "$A_PORT" s@example.com ok@cmd.example
check "command: exit 1 refuses with its text" replied '^55[0-9] 5\.7\.1 .*refused by the command rule' \
	"$A_PORT" s@example.com bad@cmd.example
check "command: a crash defers" replied '^45[0-9] 4\.7\.1 ' "$A_PORT" s@example.com crash@cmd.example
start=$SECONDS
check "command: a hang defers" replied '^45[0-9] 4\.7\.1 ' "$A_PORT" s@example.com hang@cmd.example
check "command: the hang cut at the deadline" test $((SECONDS - start)) -le 6
check "command: the crash logged" logged 'warning: rule cmd: killed by signal 11'
check "command: the hang logged" logged 'warning: rule cmd: timed out'
check "command: shell metacharacters accepted" replied '^250' "$A_PORT" s@example.com \
	'"a;touch /tmp/x$(id)"@cmd.example'
check "command: argv verbatim" grep -qxF 'a;touch /tmp/x$(id)@cmd.example' "$PD/cmd.args"
check "command: nothing ran" eval '! ls /tmp/xuid=* 2>/dev/null'
check "command: 2 delivered, nothing queued" eval \
	'sink_wait 2 20 && wait_queue_empty 10 && test "$(sink_count)" -eq 2'

# ---- bad requests straight to the daemon
$PC bad "$DPORT" > "$PD/bad.out" 2>&1
for c in 10000-attributes 1mb-value binary no-empty-line; do
	check "bad $c: DEFER_IF_PERMIT" \
		grep -qx "$c: action=DEFER_IF_PERMIT Service temporarily unavailable" "$PD/bad.out"
done
check "bad: the connection goes on after each" eval \
	'test "$(grep -c -- "-then: action=DUNNO$" "$PD/bad.out")" -eq 3 || cat "$PD/bad.out"'
check "bad: the daemon serves a new connection" grep -qx 'fresh: action=DUNNO' "$PD/bad.out"
check "bad: logged" eval \
	'test "$(grep -c "warning: " "$PLOG")" -ge 5 || tail -n 20 "$PLOG"'
check "daemon: still running" kill -0 "$DAEMON"
ps_daemon_stop "$DAEMON"

finish
