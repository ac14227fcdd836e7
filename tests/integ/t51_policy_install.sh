#!/bin/bash
# t51_policy_install - "postsift-postfix install policy" and "remove" on a
# running private Postfix whose smtpd_recipient_restrictions are the
# old-style "permit_mynetworks, reject_unauth_destination". Spawn (the
# default): install adds the spawn(8) service postsift-policy/unix, its
# time limit (3600s), and check_policy_service { unix:private/..., timeout,
# default_action=DEFER_IF_PERMIT } before permit_mynetworks; postfix
# check is silent, "postsift-postfix check" is clean; through the
# installed service a signed address delivers and an unsigned one to a
# protected domain is refused with 5.1.1 at RCPT, nothing queued, the
# decision logged. Moved after permit_mynetworks, check names
# policy-after-permit (and the unsigned address now gets through: the
# harm). remove gives back postconf -n, -M and -P exactly. --daemon: the
# check asks policy_listen; with the daemon down check names
# policy-missing (its probe) and recipients get 4xx, nothing queued; with
# it up check is clean and the signed address delivers; remove restores
# the configuration again.

. "$(dirname "$0")/checklib.sh"
plan 26
need_prog runuser
POLICY=$BUILD_DIR/bin/postsift-policy
[ -x "$POLICY" ] || die "no $POLICY (run make)"
PC="python3 $TOP/tests/integ/policy_client.py"
PDAEMON=
on_cleanup 'if [ -n "$PDAEMON" ]; then kill "$PDAEMON" 2>/dev/null; wait "$PDAEMON" 2>/dev/null; PDAEMON=; fi'

# rcpt_reply SENDER RCPT - the RCPT reply of one transaction
rcpt_reply() { $PC smtp "$PF_SMTP_PORT" "$1" "$2" 1 2>&1 | sed -n 's/^1 //p'; }
# replied PATTERN SENDER RCPT - the RCPT reply matches PATTERN
replied() {
	local r
	r=$(rcpt_reply "$2" "$3")
	printf '%s\n' "$r" | grep -Eq "$1" || { echo "reply: $r"; return 1; }
}
# logged PATTERN - the policy log has a line matching PATTERN
logged() { wait_for 5 grep -Eq -- "$1" "$PLOG" || { echo "not in $PLOG: $1"; return 1; }; }
# mint ADDRESS DAYS - a signed address, as the owner of the key
mint() { runuser -u "$FILTER_USER" -- "$POLICY" -m mint -c "$PS_CONF" "$1" "$2"; }
# restrictions - smtpd_recipient_restrictions, the policy entry as POLICY
restrictions() { pfc -h smtpd_recipient_restrictions | sed 's/check_policy_service {[^}]*}/POLICY/'; }

pf_new pi
sink_start
PD=$TESTROOT/policy
DPORT=$(free_port)
[ -n "$TESTROOT" ] && mkdir -p "$PD/rate" || die "mkdir $PD"
PLOG=$PD/policy.log
: > "$PLOG"
head -c 32 /dev/urandom | base64 > "$PD/policy.key"
echo "signed: recipient_domain=signed.example => signed_address required" > "$PD/policy.rules"
ps_conf "policy_rules=$PD/policy.rules" "policy_secret_file=$PD/policy.key" \
	"policy_rate_db=$PD/rate/rate.lmdb" "policy_listen=127.0.0.1:$DPORT" \
	"policy_pid_file=$PD/policy.pid" "policy_workers=2" "log_file=$PLOG" \
	"daemon_user=$FILTER_USER"
chown -R "$FILTER_USER" "$PD"
chmod 700 "$PD/rate"
chmod 600 "$PD/policy.key"
pfc -e "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination"
pf_start
snap "$PF_DIR/before.snap"
MINTED=$(mint alice@signed.example 10)

# ---------------------------------------------------------------- spawn
check "install policy" eval '"$PP" install policy -c "$PF_CONF" -p "$PS_CONF" -b "$POLICY" >"$PF_DIR/install.log" 2>&1'
check "the check goes before permit_mynetworks" \
	test "$(restrictions)" = "POLICY, permit_mynetworks, reject_unauth_destination"
check "the check: unix:private/postsift-policy, default_action=DEFER_IF_PERMIT" \
	eval 'pfc -h smtpd_recipient_restrictions | grep -q "{ unix:private/postsift-policy, timeout=[0-9]*s, default_action=DEFER_IF_PERMIT }"'
check "master.cf: a spawn(8) service running postsift-policy as $FILTER_USER" \
	test "$(pfc -M postsift-policy/unix | awk '{ print $8, $9, $10 }')" = "spawn user=$FILTER_USER argv=$POLICY"
check "postsift-policy_time_limit = 3600s" test "$(pfc -h postsift-policy_time_limit)" = 3600s
check "postfix check is silent" clean_check
check "install policy again is refused" pp_rc 1 install policy -c "$PF_CONF" -p "$PS_CONF" -b "$POLICY"
pf_reload
sleep 1
clean "spawn"
check "signed address: 250 at RCPT" replied '^250' s@example.com "$MINTED"
check "unsigned address of a protected domain: 5.1.1 at RCPT" \
	replied '^55[0-9] 5\.1\.1 .*needs a valid signature' s@example.com carol@signed.example
check "the signed one delivered, nothing queued" \
	eval 'sink_wait 1 20 && wait_queue_empty 10 && test "$(sink_count)" -eq 1'
check "the refusal logged by the installed service" \
	logged 'to=<carol@signed.example>, state=RCPT, rule=signed, .*action="REJECT 5.1.1 address needs a valid signature"'
sink_clear

# moved after permit_mynetworks: skipped for the clients it permits
INSTALLED=$(pfc -h smtpd_recipient_restrictions)
ENTRY=$(printf '%s\n' "$INSTALLED" | grep -o 'check_policy_service {[^}]*}')
pfc -e "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination, $ENTRY"
pf_reload
sleep 1
only "moved after permit_mynetworks" policy-after-permit
check "moved: the unsigned address gets through (the service is not asked)" \
	replied '^250' s@example.com carol@signed.example
check "moved: delivered" eval 'sink_wait 1 20 && wait_queue_empty 10'
sink_clear
pfc -e "smtpd_recipient_restrictions = $INSTALLED"

check "remove" pp_rc 0 remove -c "$PF_CONF"
check "remove: postconf -n, -M and -P as before install" same_conf "$PF_DIR/before.snap"
pf_reload
sleep 1

# ---------------------------------------------------------------- daemon
check "install policy --daemon" eval '"$PP" install policy --daemon -c "$PF_CONF" -p "$PS_CONF" -b "$POLICY" >>"$PF_DIR/install.log" 2>&1'
check "--daemon: the check asks policy_listen, no master.cf service" \
	eval 'pfc -h smtpd_recipient_restrictions | grep -q "{ inet:127.0.0.1:$DPORT," && [ -z "$(pfc -M postsift-policy/unix)" ]'
pf_reload
sleep 1
only "daemon down" policy-missing
check "daemon down: 4xx at RCPT, nothing queued" \
	eval 'replied "^4[0-9][0-9] " s@example.com "$MINTED" && test "$(pf_queue_count)" -eq 0'
"$POLICY" -m daemon -F -c "$PS_CONF" > "$PD/daemon.out" 2>&1 &
PDAEMON=$!
check "the daemon listens" pf_wait_port "$DPORT" 15
clean "daemon up"
check "daemon up: the signed address delivered" \
	eval 'replied "^250" s@example.com "$MINTED" && sink_wait 1 20 && wait_queue_empty 10'
check "daemon up: the unsigned one 5.1.1" \
	replied '^55[0-9] 5\.1\.1 ' s@example.com carol@signed.example
kill "$PDAEMON" 2>/dev/null
wait "$PDAEMON" 2>/dev/null
PDAEMON=
check "remove (--daemon)" eval 'pp_rc 0 remove -c "$PF_CONF" >/dev/null && same_conf "$PF_DIR/before.snap"'
finish
