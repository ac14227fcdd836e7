#!/bin/bash
# t03_postfix_modes - scripts/postsift-postfix "install advanced", "install
# spawn" and "install before-queue" (daemon and -s) at the configuration
# level: on a fresh running private instance each adds exactly the
# settings of FILTER_README / SMTPD_PROXY_README (checked field by field
# with postconf -M, -F, -P and -n), "postfix check" is clean, the reloaded
# instance listens where it should, and "remove" gives back postconf -n,
# -M and -P byte for byte. Values that existed before come back; a second
# install, of any design, is refused; bad input exits 2 (usage) or 1
# (failed check) and changes nothing.
#
# Mail does not flow here (t20_smtpd_modes does that): the daemon is not
# started, and the spawn service is only asked for its greeting.

. "$(dirname "$0")/lib.sh"
need_root
plan 268
need_prog postfix postconf smtp-sink diff nc
getent passwd "$FILTER_USER" >/dev/null || die "no user $FILTER_USER (run scripts/install-deps)"
[ -x "$BUILD_DIR/bin/postsift-filter" ] || die "no $BUILD_DIR/bin/postsift-filter (run make)"

FILTER=$BUILD_DIR/bin/postsift-filter

# is NAME WANT - postconf -h NAME (main.cf, -P or -F form) prints WANT
is() {
	local got
	case $1 in
	*/*/*) got=$(pfc -Ph "$1" 2>/dev/null) ;;
	*) got=$(pfc -h "$1" 2>/dev/null) ;;
	esac
	[ "$got" = "$2" ] || { echo "$1 = '$got', want '$2'"; return 1; }
}
# field SERVICE/TYPE/FIELD WANT - a master.cf field (postconf -F)
field() {
	local got
	got=$(pfc -Fh "$1" 2>/dev/null)
	[ "$got" = "$2" ] || { echo "$1 = '$got', want '$2'"; return 1; }
}
# has_param SERVICE/TYPE/NAME - the service sets NAME (possibly empty)
has_param() { pfc -P "$1" 2>/dev/null | grep -q .; }
# not_listening PORT - nothing accepts on 127.0.0.1:PORT (within 10 s)
not_listening() {
	local end=$((SECONDS + 10))
	while nc -z 127.0.0.1 "$1" 2>/dev/null; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.2
	done
}
# greets PORT - an SMTP greeting 220 comes from 127.0.0.1:PORT
greets() {
	local g
	g=$(timeout 10 nc -w 5 127.0.0.1 "$1" </dev/null 2>/dev/null | head -n 1)
	echo "greeting: $g"
	[[ $g =~ ^220[\ -] ]]
}
# check_reinject DESIGN MAXPROC - the reinjection smtpd on $PF_REINJECT_PORT
check_reinject() {
	local s=127.0.0.1:$PF_REINJECT_PORT/inet p
	check "$1: reinjection smtpd added" eval "pfc -Fh $s/command | grep -q '^smtpd '"
	check "$1: reinjection smtpd process limit" field "$s/process_limit" "$2"
	check "$1: reinjection smtpd not chrooted" field "$s/chroot" n
	if [ "$1" = before-queue ] || [ "$1" = before-queue-s ]; then
		check "$1: reinjection receive_override_options (SMTPD_PROXY_README)" \
			is "$s/receive_override_options" no_unknown_recipient_checks
		check "$1: reinjection keeps main.cf content_filter" eval "! has_param $s/content_filter"
	else
		check "$1: reinjection content_filter empty" is "$s/content_filter" ""
		check "$1: reinjection content_filter set (loop-safe)" has_param "$s/content_filter"
		check "$1: reinjection receive_override_options" \
			is "$s/receive_override_options" no_unknown_recipient_checks,no_header_body_checks,no_milters
	fi
	for p in smtpd_helo_restrictions smtpd_client_restrictions smtpd_sender_restrictions \
		smtpd_data_restrictions smtpd_end_of_data_restrictions; do
		check "$1: reinjection $p cleared" eval "has_param $s/$p && is $s/$p ''"
	done
	check "$1: reinjection recipient restrictions" is "$s/smtpd_recipient_restrictions" permit_mynetworks,reject
	check "$1: reinjection relay restrictions" is "$s/smtpd_relay_restrictions" permit_mynetworks,reject
	check "$1: reinjection mynetworks" is "$s/mynetworks" 127.0.0.0/8
	check "$1: reinjection XFORWARD hosts" is "$s/smtpd_authorized_xforward_hosts" 127.0.0.0/8
}
# check_scan NAME MAXPROC FPORT - the scan transport
check_scan() {
	local s=scan/unix
	check "$1: scan transport is smtp" eval "pfc -Fh $s/command | grep -q '^smtp '"
	check "$1: scan process limit" field "$s/process_limit" "$2"
	check "$1: scan not chrooted" field "$s/chroot" n
	check "$1: scan sends XFORWARD" is "$s/smtp_send_xforward_command" yes
	check "$1: scan keeps 8-bit" is "$s/disable_mime_output_conversion" yes
	check "$1: scan without generic maps" eval "has_param $s/smtp_generic_maps && is $s/smtp_generic_maps ''"
	check "$1: scan without header checks" eval "has_param $s/smtp_header_checks && is $s/smtp_header_checks ''"
	check "$1: scan without body checks" eval "has_param $s/smtp_body_checks && is $s/smtp_body_checks ''"
	check "$1: scan without TLS" is "$s/smtp_tls_security_level" none
	check "$1: scan data done timeout" is "$s/smtp_data_done_timeout" 1200s
}
# check_spawn NAME MAXPROC FPORT - the spawn service
check_spawn() {
	local s=127.0.0.1:$3/inet
	check "$1: spawn service added" eval "pfc -Fh $s/command | grep -q '^spawn '"
	check "$1: spawn private n" field "$s/private" n
	check "$1: spawn unprivileged n" field "$s/unprivileged" n
	check "$1: spawn chroot n" field "$s/chroot" n
	check "$1: spawn process limit" field "$s/process_limit" "$2"
	check "$1: spawn time limit" is "$s/command_time_limit" 1800s
	check "$1: spawn argv" eval "pfc -Fh $s/command | grep -qF -- 'user=$FILTER_USER argv=$FILTER -m smtpd -c $PS_CONF -o reinject_target=[127.0.0.1]:$PF_REINJECT_PORT'"
}
# check_after_queue NAME SERVICE FPORT - content_filter on the listener
check_after_queue() {
	check "$1: content_filter on $2" is "$2/content_filter" "scan:[127.0.0.1]:$3"
	check "$1: no_address_mappings on $2" is "$2/receive_override_options" no_address_mappings
	check "$1: main.cf content_filter untouched" test -z "$(pfc -nh content_filter 2>/dev/null)"
	check "$1: no smtpd_proxy_filter" eval "! has_param $2/smtpd_proxy_filter"
}
# check_before_queue NAME SERVICE FPORT - the proxy settings on the listener
check_before_queue() {
	check "$1: smtpd_proxy_filter on $2" is "$2/smtpd_proxy_filter" "127.0.0.1:$3"
	check "$1: smtpd_proxy_options" is "$2/smtpd_proxy_options" speed_adjust
	check "$1: smtpd_proxy_timeout" is "$2/smtpd_proxy_timeout" 600s
	check "$1: no content_filter" eval "! has_param $2/content_filter && test -z \"\$(pfc -nh content_filter 2>/dev/null)\""
	check "$1: no scan transport" test -z "$(pfc -M scan/unix 2>/dev/null)"
}
# check_running NAME PORT... - reloaded: the instance runs, the ports answer
check_running() {
	local n=$1 p
	shift
	check "$n: postfix check clean" clean_check
	check "$n: instance running" pf_running
	for p in "$@"; do
		check "$n: listening on $p" pf_wait_port "$p" 10
	done
}
# check_removed NAME BEFORE PORT... - remove restores everything
check_removed() {
	local n=$1 before=$2 p
	shift 2
	check "$n: remove" pp_rc 0 remove -c "$PF_CONF"
	check "$n: remove names the design" grep -q "removing 'install ${n%-s}'" "$PF_DIR/pp.out"
	check "$n: remove restores postconf -n, -M, -P" same_conf "$before"
	check "$n: saved state deleted" test ! -e "$PF_CONF/postsift-postfix.saved"
	check "$n: postfix check clean after remove" clean_check
	for p in "$@"; do
		check "$n: port $p closed after reload" not_listening "$p"
	done
	check "$n: remove twice refused" pp_rc 1 remove -c "$PF_CONF"
}
# instance NAME [ps_conf settings] - a fresh running instance, PS_CONF,
# FPORT (the filter port) and the common install options in OPTS
instance() {
	local name=$1
	shift
	pf_new "$name"
	sink_start
	pf_start
	FPORT=$(free_port)
	ps_conf "$@"
	OPTS=(-c "$PF_CONF" -p "$PS_CONF" -b "$FILTER" -r "$PF_REINJECT_PORT" -P "$FPORT")
	LSVC=$PF_SMTP_PORT/inet
}

# ---------------------------------------------------------------- advanced
instance adv "smtpd_listen=127.0.0.1:PLACEHOLDER" smtpd_workers=4
sed -i "s/PLACEHOLDER/$FPORT/" "$PS_CONF"
snap "$PF_DIR/before.snap"
check "advanced: install" pp_rc 0 install advanced "${OPTS[@]}" -l "$PF_SMTP_PORT"
sed 's/^/# /' "$PF_DIR/pp.out"
check "advanced: prints its postconf commands" grep -qF "postconf -c $PF_CONF -M 'scan/unix=scan unix - - n - 4 smtp " "$PF_DIR/pp.out"
check "advanced: no warning for a fitting postsift.conf" eval "! grep -q warning '$PF_DIR/pp.out'"
check "advanced: prints the daemon's smtpd_listen" grep -qF "smtpd_listen = 127.0.0.1:$FPORT" "$PF_DIR/pp.out"
check "advanced: prints the daemon's reinject_target" grep -qF "reinject_target = [127.0.0.1]:$PF_REINJECT_PORT" "$PF_DIR/pp.out"
check "advanced: prints how to start the daemon" grep -qF "start it with: $FILTER -m smtpd -d -c $PS_CONF" "$PF_DIR/pp.out"
check "advanced: saved state names the design" grep -qx "mode advanced" "$PF_CONF/postsift-postfix.saved"
check_scan advanced 4 "$FPORT"
check_reinject advanced 4
check_after_queue advanced "$LSVC" "$FPORT"
check "advanced: no spawn service" test -z "$(pfc -M "127.0.0.1:$FPORT/inet" 2>/dev/null)"
check_running advanced "$PF_REINJECT_PORT"
check "advanced: install twice refused" pp_rc 1 install advanced "${OPTS[@]}"
check "advanced: refusal says why" grep -q "already installed.*'install advanced'" "$PF_DIR/pp.out"
check "advanced: spawn on top refused" pp_rc 1 install spawn "${OPTS[@]}" -u "$FILTER_USER"
check "advanced: before-queue on top refused" pp_rc 1 install before-queue "${OPTS[@]}"
check "advanced: simple on top refused" pp_rc 1 install simple -c "$PF_CONF" -p "$PS_CONF" -b "$FILTER" -u "$FILTER_USER"
check_removed advanced "$PF_DIR/before.snap" "$PF_REINJECT_PORT"

# Values that existed before come back; -m; a second listening service.
pfc -P "$LSVC/content_filter=other:dummy" "$LSVC/receive_override_options=no_header_body_checks"
p2=$(free_port)
pfc -M "127.0.0.1:$p2/inet=127.0.0.1:$p2 inet n - n - - smtpd"
pf_reload
snap "$PF_DIR/before2.snap"
check "advanced-2: install, two services, -m 6" pp_rc 0 install advanced "${OPTS[@]}" -m 6 \
	-l "$PF_SMTP_PORT" -l "127.0.0.1:$p2"
check "advanced-2: warns about the replaced content_filter" grep -q "had content_filter = other:dummy" "$PF_DIR/pp.out"
check "advanced-2: warns -m above smtpd_workers" grep -q "above the daemon's smtpd_workers = 4" "$PF_DIR/pp.out"
check "advanced-2: scan process limit -m" field scan/unix/process_limit 6
check "advanced-2: reinjection smtpd limit >= scan" field "127.0.0.1:$PF_REINJECT_PORT/inet/process_limit" 6
check "advanced-2: content_filter replaced" is "$LSVC/content_filter" "scan:[127.0.0.1]:$FPORT"
check "advanced-2: no_address_mappings added to the service's list" \
	is "$LSVC/receive_override_options" no_header_body_checks,no_address_mappings
check "advanced-2: second service filtered" is "127.0.0.1:$p2/inet/content_filter" "scan:[127.0.0.1]:$FPORT"
check "advanced-2: postfix check clean" clean_check
check "advanced-2: remove" pp_rc 0 remove -c "$PF_CONF"
check "advanced-2: restored exactly" same_conf "$PF_DIR/before2.snap"
check "advanced-2: old content_filter back" is "$LSVC/content_filter" other:dummy
check "advanced-2: old receive_override_options back" is "$LSVC/receive_override_options" no_header_body_checks
pfc -PX "$LSVC/content_filter" "$LSVC/receive_override_options"
pfc -MX "127.0.0.1:$p2/inet"

# -g: main.cf, with a receive_override_options of its own; a postsift.conf
# that does not fit is warned about.
pfc -e "receive_override_options = no_milters"
ps_conf smtpd_workers=3
snap "$PF_DIR/before3.snap"
check "advanced -g: install" pp_rc 0 install advanced -g "${OPTS[@]}"
check "advanced -g: warns about smtpd_listen" grep -q "warning: .*smtpd_listen = 127.0.0.1:10025; the daemon needs smtpd_listen = 127.0.0.1:$FPORT" "$PF_DIR/pp.out"
check "advanced -g: no warning about reinject_target" eval "! grep -q 'warning: .*reinject_target' '$PF_DIR/pp.out'"
check "advanced -g: main.cf content_filter" is content_filter "scan:[127.0.0.1]:$FPORT"
check "advanced -g: main.cf receive_override_options" is receive_override_options no_milters,no_address_mappings
check "advanced -g: listening service untouched" eval "! has_param $LSVC/content_filter"
check "advanced -g: scan limit = smtpd_workers" field scan/unix/process_limit 3
check_reinject "advanced -g" 3
check "advanced -g: postfix check clean" clean_check
check "advanced -g: remove" pp_rc 0 remove -c "$PF_CONF"
check "advanced -g: restored exactly" same_conf "$PF_DIR/before3.snap"
check "advanced -g: remove says postsuper -r" grep -q "postsuper -c $PF_CONF -r ALL" "$PF_DIR/pp.out"
pfc -X receive_override_options

# ---------------------------------------------------------------- spawn
instance spawn
snap "$PF_DIR/before.snap"
check "spawn: install" pp_rc 0 install spawn "${OPTS[@]}" -u "$FILTER_USER" -l "$PF_SMTP_PORT" -m 3
check "spawn: nothing to start" eval "! grep -q 'start it with' '$PF_DIR/pp.out'"
check_scan spawn 3 "$FPORT"
check_spawn spawn 3 "$FPORT"
check_reinject spawn 3
check_after_queue spawn "$LSVC" "$FPORT"
check_running spawn "$PF_REINJECT_PORT" "$FPORT"
check "spawn: the filter answers on $FPORT" greets "$FPORT"
check "spawn: install twice refused" pp_rc 1 install spawn "${OPTS[@]}" -u "$FILTER_USER"
check "spawn: refusal says why" grep -q "already installed.*'install spawn'" "$PF_DIR/pp.out"
check_removed spawn "$PF_DIR/before.snap" "$PF_REINJECT_PORT" "$FPORT"
# Defaults: the process limit 10; no reinject_target in argv without -r.
snap "$PF_DIR/before2.snap"
check "spawn-2: install without -r, -m" pp_rc 0 install spawn -c "$PF_CONF" -p "$PS_CONF" -b "$FILTER" -P "$FPORT" -l "$PF_SMTP_PORT"
check "spawn-2: warns that reinject_target does not fit" grep -q "reinject_target = \[127.0.0.1\]:$PF_REINJECT_PORT; the reinjection smtpd is 127.0.0.1:10026" "$PF_DIR/pp.out"
check "spawn-2: default process limit 10" field "127.0.0.1:$FPORT/inet/process_limit" 10
check "spawn-2: user postsift by default" eval "pfc -Fh 127.0.0.1:$FPORT/inet/command | grep -q 'user=postsift '"
check "spawn-2: no reinject_target in argv" eval "! pfc -Fh 127.0.0.1:$FPORT/inet/command | grep -q reinject_target"
check "spawn-2: reinjection on 10026" eval "pfc -M 127.0.0.1:10026/inet | grep -q smtpd"
check "spawn-2: remove" pp_rc 0 remove -c "$PF_CONF"
check "spawn-2: restored exactly" same_conf "$PF_DIR/before2.snap"

# ---------------------------------------------------------------- before-queue
instance bq smtpd_workers=5 "smtpd_listen=127.0.0.1:PLACEHOLDER"
sed -i "s/PLACEHOLDER/$FPORT/" "$PS_CONF"
snap "$PF_DIR/before.snap"
check "before-queue: install" pp_rc 0 install before-queue "${OPTS[@]}" -l "$PF_SMTP_PORT"
check "before-queue: prints how to start the daemon" grep -qF "start it with: $FILTER -m smtpd -d -c $PS_CONF" "$PF_DIR/pp.out"
check_before_queue before-queue "$LSVC" "$FPORT"
check_reinject before-queue 5
check "before-queue: no spawn service" test -z "$(pfc -M "127.0.0.1:$FPORT/inet" 2>/dev/null)"
check_running before-queue "$PF_REINJECT_PORT"
check "before-queue: install twice refused" pp_rc 1 install before-queue "${OPTS[@]}"
check "before-queue: advanced on top refused" pp_rc 1 install advanced "${OPTS[@]}"
check_removed before-queue "$PF_DIR/before.snap" "$PF_REINJECT_PORT"
# -s / --spawn, over proxy settings of the service's own.
pfc -P "$LSVC/smtpd_proxy_timeout=42s"
for spawnopt in -s --spawn; do
	snap "$PF_DIR/before2.snap"
	check "before-queue $spawnopt: install" pp_rc 0 install before-queue "$spawnopt" "${OPTS[@]}" \
		-u "$FILTER_USER" -l "$PF_SMTP_PORT" -m 4
	check_before_queue "before-queue $spawnopt" "$LSVC" "$FPORT"
	check_spawn "before-queue $spawnopt" 4 "$FPORT"
	check "before-queue $spawnopt: reinjection limit" field "127.0.0.1:$PF_REINJECT_PORT/inet/process_limit" 4
	check_running "before-queue $spawnopt" "$PF_REINJECT_PORT" "$FPORT"
	check "before-queue $spawnopt: remove" pp_rc 0 remove -c "$PF_CONF"
	check "before-queue $spawnopt: restored exactly" same_conf "$PF_DIR/before2.snap"
	check "before-queue $spawnopt: old proxy timeout back" is "$LSVC/smtpd_proxy_timeout" 42s
done
pfc -PX "$LSVC/smtpd_proxy_timeout"

# ---------------------------------------------------------------- bad input
# On the before-queue instance, nothing installed.
snap "$PF_DIR/before3.snap"
c=(-c "$PF_CONF")
good=(-p "$PS_CONF" -b "$FILTER" -r "$PF_REINJECT_PORT" -P "$FPORT" -l "$PF_SMTP_PORT")
check "bad: unknown design: 2" pp_rc 2 install sideways "${c[@]}" "${good[@]}"
check "bad: unknown option: 2" pp_rc 2 install advanced "${c[@]}" "${good[@]}" -Z
check "bad: -1 with advanced: 2" pp_rc 2 install advanced -1 "${c[@]}" "${good[@]}"
check "bad: -1 says it is for simple" grep -q "install simple" "$PF_DIR/pp.out"
check "bad: -g with before-queue: 2" pp_rc 2 install before-queue -g "${c[@]}" "${good[@]}"
check "bad: -g with -l: 2" pp_rc 2 install advanced -g "${c[@]}" "${good[@]}"
check "bad: -s with advanced: 2" pp_rc 2 install advanced -s "${c[@]}" "${good[@]}"
check "bad: --spawn with spawn: 2" pp_rc 2 install spawn --spawn "${c[@]}" "${good[@]}"
check "bad: -u with the daemon: 2" pp_rc 2 install advanced -u "$FILTER_USER" "${c[@]}" "${good[@]}"
check "bad: -u says why" grep -q "daemon_user" "$PF_DIR/pp.out"
check "bad: -P not a number: 2" pp_rc 2 install advanced "${c[@]}" "${good[@]}" -P 10o25
check "bad: -P 0: 2" pp_rc 2 install advanced "${c[@]}" "${good[@]}" -P 0
check "bad: -P out of range: 2" pp_rc 2 install advanced "${c[@]}" "${good[@]}" -P 65536
check "bad: -r out of range: 2" pp_rc 2 install spawn "${c[@]}" "${good[@]}" -r 70000
check "bad: -P equals -r: 2" pp_rc 2 install advanced "${c[@]}" "${good[@]}" -P "$PF_REINJECT_PORT"
check "bad: -m 0: 2" pp_rc 2 install advanced "${c[@]}" "${good[@]}" -m 0
check "bad: -m 1001: 2" pp_rc 2 install advanced "${c[@]}" "${good[@]}" -m 1001
check "bad: -m abc: 2" pp_rc 2 install spawn "${c[@]}" "${good[@]}" -m abc
check "bad: option without value: 2" pp_rc 2 install advanced "${c[@]}" "${good[@]}" -P
check "bad: missing value named" grep -q "option -P needs a value" "$PF_DIR/pp.out"
check "bad: extra argument: 2" pp_rc 2 install before-queue "${c[@]}" "${good[@]}" extra
check "bad: missing config dir: 1" pp_rc 1 install advanced -c /nonexistent/postfix "${good[@]}"
check "bad: missing postsift.conf: 1" pp_rc 1 install advanced "${c[@]}" "${good[@]}" -p /nonexistent.conf
check "bad: relative postsift.conf: 1" pp_rc 1 install spawn "${c[@]}" "${good[@]}" -p postsift.conf
check "bad: spawn, missing filter: 1" pp_rc 1 install spawn "${c[@]}" "${good[@]}" -b /nonexistent/postsift-filter
check "bad: daemon, -b missing filter: 1" pp_rc 1 install advanced "${c[@]}" "${good[@]}" -b /nonexistent/postsift-filter
check "bad: spawn as root: 1" pp_rc 1 install spawn "${c[@]}" "${good[@]}" -u root
check "bad: spawn as mail_owner: 1" pp_rc 1 install before-queue -s "${c[@]}" "${good[@]}" -u "$(pfc -h mail_owner)"
check "bad: spawn as unknown user: 1" pp_rc 1 install spawn "${c[@]}" "${good[@]}" -u no-such-user-xyz
check "bad: unknown listen service: 1" pp_rc 1 install advanced "${c[@]}" "${good[@]}" -l 1
check "bad: listen service not smtpd: 1" pp_rc 1 install before-queue "${c[@]}" "${good[@]}" -l pickup/unix
check "bad: filter port used by a service: 1" pp_rc 1 install advanced "${c[@]}" "${good[@]}" -P "$PF_SMTP_PORT"
check "bad: port conflict names the service" grep -q "already has a service on port $PF_SMTP_PORT: $PF_SMTP_PORT/inet" "$PF_DIR/pp.out"
check "bad: reinjection port used by a service: 1" pp_rc 1 install spawn "${c[@]}" "${good[@]}" -r "$PF_SMTP_PORT"
pfc -M "scan/unix=scan unix - - n - - smtp"
check "bad: existing scan transport: 1" pp_rc 1 install advanced "${c[@]}" "${good[@]}"
pfc -MX scan/unix
pfc -e "smtpd_proxy_filter = 127.0.0.1:10099"
check "bad: main.cf smtpd_proxy_filter: 1" pp_rc 1 install advanced "${c[@]}" "${good[@]}"
pfc -X smtpd_proxy_filter
pfc -P "$LSVC/smtpd_proxy_filter=127.0.0.1:10099"
check "bad: service already proxied: 1" pp_rc 1 install spawn "${c[@]}" "${good[@]}"
pfc -PX "$LSVC/smtpd_proxy_filter"
check "bad input changed nothing" same_conf "$PF_DIR/before3.snap"
check "bad input left no saved state" test ! -e "$PF_CONF/postsift-postfix.saved"
check "postfix check clean at the end" clean_check

finish
