#!/bin/bash
# t22_smtpd_dsn - the DSN and SMTPUTF8/8BITMIME parameters survive the
# round trip through postsift-filter -m smtpd, in each of the three ways
# it is wired: after-queue with the daemon ("install advanced", daemon
# started here), after-queue under spawn(8) ("install spawn") and
# before-queue ("install before-queue -s").
#
# Two messages are submitted with postsift-smtpcli to the public smtpd:
#   A  ASCII envelope, BODY=8BITMIME with 8-bit bytes in the body,
#      RET=HDRS, ENVID (with characters that need xtext), NOTIFY and
#      ORCPT (also needing xtext) on each recipient;
#   U  SMTPUTF8 with UTF-8 addresses (local parts with é) and a raw UTF-8
#      Subject, BODY=8BITMIME, RET=FULL, ENVID, NOTIFY, ORCPT.
# Each has one recipient whose final hop announces DSN (no DSN must come
# back for it, and the hop must receive NOTIFY/ORCPT/RET/ENVID) and one
# whose final hop does not (Postfix then sends a "relayed" success DSN
# for NOTIFY=SUCCESS: it must carry Original-Envelope-Id, the
# Original-Recipient and the headers or the full message as RET said).
#
# Final hops: example.net goes to lib.sh's smtp-sink (relayhost: it
# announces DSN but not SMTPUTF8); utf8.test, example.com (the sender's
# domain: the DSNs, which can need SMTPUTF8) and nodsn.test go, by transport_maps,
# to two small recording SMTP servers of this test (perl), both with
# 8BITMIME and SMTPUTF8, the first with DSN and the second without; the
# first refuses local parts that start with "fail" (550 5.1.1), which
# makes a failure DSN: RET applies to those only (RFC 3461 4.3; Postfix
# returns only the headers in success notices whatever RET says).
# smtp-sink and the recorder keep the raw MAIL and RCPT arguments
# (X-Mail-Args, X-Rcpt-Args) and the message bytes.
#
# The same messages go first through an instance without the filter:
# Postfix's own final-hop parameters and DSN fields are the reference
# the filtered runs must reproduce (compared per recipient).

. "$(dirname "$0")/lib.sh"
need_root
plan 166
need_prog postfix postconf smtp-sink nc perl
getent passwd "$FILTER_USER" >/dev/null || die "no user $FILTER_USER (run scripts/install-deps)"
FILTER=$BUILD_DIR/bin/postsift-filter
SMTPCLI=$BUILD_DIR/bin/postsift-smtpcli
[ -x "$FILTER" ] || die "no $FILTER (run make)"
[ -x "$SMTPCLI" ] || die "no $SMTPCLI (run make)"
export LC_ALL=C.UTF-8

testroot_init
RSINK_PIDS=()
# set by rsink_start
RS_PORT_dsn='' RS_PORT_nodsn='' RS_DIR_dsn='' RS_DIR_nodsn=''
# stop_rsinks - stop the recording servers this test started
stop_rsinks() {
	local p
	for p in "${RSINK_PIDS[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	RSINK_PIDS=()
	return 0
}
on_cleanup stop_rsinks

# The recording SMTP server: PORT DIR DSN(0/1). One dump file per
# message, DIR/msg.PID.N: "X-Mail-Args: ..." and "X-Rcpt-Args: ..."
# lines (the raw text after "MAIL FROM:" / "RCPT TO:"), an empty line,
# then the message as received (dot-stuffing undone, CRLF made LF). Exits when
# the test shell is gone.
cat > "$TESTROOT/rsink.pl" <<'EOF'
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
my ($port, $dir, $dsn) = @ARGV;
my $parent = getppid();
my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
	Listen => 32, ReuseAddr => 1, Proto => 'tcp') or die "listen $port: $!\n";
$SIG{CHLD} = 'IGNORE';
$SIG{TERM} = sub { exit 0 };
my $sel = IO::Select->new($srv);
while (kill(0, $parent)) {
	next unless $sel->can_read(1);
	my $c = $srv->accept or next;
	my $pid = fork;
	if (defined $pid && $pid == 0) {
		$SIG{TERM} = 'DEFAULT';
		close $srv;
		session($c);
		exit 0;
	}
	close $c;
}
sub out { my ($c, $s) = @_; print $c "$s\r\n"; }
sub session {
	my $c = shift;
	binmode $c;
	$c->autoflush(1);
	my ($n, @env) = (0);
	out($c, "220 rsink.postsift.test ESMTP");
	while (defined(my $l = <$c>)) {
		$l =~ s/\r?\n\z//;
		if ($l =~ /^(?:EHLO|HELO)\b/i) {
			out($c, "250-rsink.postsift.test");
			out($c, "250-PIPELINING");
			out($c, "250-8BITMIME");
			out($c, "250-SMTPUTF8");
			out($c, "250-DSN") if $dsn;
			out($c, "250 ENHANCEDSTATUSCODES");
		} elsif ($l =~ /^MAIL FROM:\s*(.*)\z/i) {
			@env = ("X-Mail-Args: $1");
			out($c, "250 2.1.0 Ok");
		} elsif ($l =~ /^RCPT TO:\s*(.*)\z/i) {
			my $a = $1;
			if ($a =~ /^<fail/i) {
				out($c, "550 5.1.1 <fail>: Recipient address rejected: no such user");
				next;
			}
			push @env, "X-Rcpt-Args: $a";
			out($c, "250 2.1.5 Ok");
		} elsif ($l =~ /^DATA\z/i) {
			out($c, "354 End data with <CR><LF>.<CR><LF>");
			my $data = '';
			while (defined(my $d = <$c>)) {
				last if $d eq ".\r\n";
				$d =~ s/^\.//;
				$d =~ s/\r\n\z/\n/;
				$data .= $d;
			}
			$n++;
			my $f = "$dir/msg.$$.$n";
			open(my $fh, '>', "$f.tmp") or die "$f.tmp: $!\n";
			binmode $fh;
			print $fh join("\n", @env), "\n\n", $data;
			close $fh;
			rename("$f.tmp", $f) or die "rename $f: $!\n";
			@env = ();
			out($c, "250 2.0.0 Ok: queued as R$$.$n");
		} elsif ($l =~ /^(?:RSET|NOOP)\b/i) {
			@env = () if $l =~ /^RSET/i;
			out($c, "250 2.0.0 Ok");
		} elsif ($l =~ /^QUIT\b/i) {
			out($c, "221 2.0.0 Bye");
			last;
		} else {
			out($c, "502 5.5.2 Error: command not recognized");
		}
	}
}
EOF

# rsink_start NAME DSN(0/1) - a recording server for the current
# instance; sets RS_PORT_NAME and RS_DIR_NAME
rsink_start() {
	local name=$1 port dir
	port=$(free_port)
	dir=$PF_DIR/rs-$name
	mkdir -p "$dir"
	perl "$TESTROOT/rsink.pl" "$port" "$dir" "$2" >>"$PF_DIR/rs-$name.log" 2>&1 &
	RSINK_PIDS+=($!)
	pf_wait_port "$port" 10 || die "recording server $name does not listen"
	printf -v "RS_PORT_$name" %s "$port"
	printf -v "RS_DIR_$name" %s "$dir"
}
# rs_files DIR - the complete dumps of a recording server, oldest first
rs_files() {
	local f
	for f in "$1"/msg.*; do
		case $f in *.tmp | *"/msg.*") continue ;; esac
		echo "$f"
	done
}
# dump_mail_args / dump_rcpt_args FILE - works for smtp-sink's dumps and ours
dump_mail_args() { sed -n '/^Received: /q; /^\r\?$/q; s/^X-Mail-Args: //p' "$1" | tr -d '\r'; }
dump_rcpt_args() { sed -n '/^Received: /q; /^\r\?$/q; s/^X-Rcpt-Args: //p' "$1" | tr -d '\r'; }
# rs_body FILE - the message a recording server received (LF line ends)
rs_body() { sed '1,/^$/d' "$1"; }

# xtext STRING - RFC 3461 xtext of STRING
xtext() {
	local s=$1 out="" c i
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		[!\!-~] | + | =) out+=$(printf '+%02X' "'$c") ;;
		*) out+=$c ;;
		esac
	done
	printf '%s' "$out"
}

# mk_msg8 FILE ID SUBJECT - a text/plain message with an 8bit body: UTF-8
# text, a Latin-1 byte, a 0xFF byte and a marker line BODY-MARKER-ID
mk_msg8() {
	{
		printf 'From: Sender <sender@example.com>\n'
		printf 'To: undisclosed-recipients:;\n'
		printf 'Subject: %s\n' "$3"
		printf 'Date: %s\n' "$(LC_ALL=C date -R)"
		printf 'Message-ID: <%s@postsift.test>\n' "$2"
		printf 'MIME-Version: 1.0\n'
		printf 'Content-Type: text/plain; charset=utf-8\n'
		printf 'Content-Transfer-Encoding: 8bit\n'
		printf '\n'
		printf 'Grüße aus Köln, café, naïve, ½ € — 8-bit text.\n'
		printf 'A Latin-1 byte: \351 and a high one: \377.\n'
		printf 'BODY-MARKER-%s\n' "$2"
		printf '.a leading dot\n'
		printf 'end.\n'
	} > "$1"
}

RUN_ID=$(date +%s).$$
# ENVIDs with characters that travel as xtext (+ = space)
envid_A() { printf 'A/%s+x=1 y.%s' "$RUN_ID" "$1"; }
envid_U() { printf 'U/%s+u=2.%s' "$RUN_ID" "$1"; }

# submit_A TAG / submit_U TAG - submit the two messages to the current
# instance's public smtpd with postsift-smtpcli (-O and -E values are
# sent as xtext); transcript in $PF_DIR/smtpcli.[AU].TAG.log
submit_A() {
	mk_msg8 "$PF_DIR/A.$1.eml" "A.$1.$RUN_ID" "DSN test A $1"
	"$SMTPCLI" -v -t 60 -s "[127.0.0.1]:$PF_SMTP_PORT" -H client.postsift.test \
		-f sender@example.com -R HDRS -E "$(envid_A "$1")" -B 8BITMIME \
		-r "a-$1@example.net" -N SUCCESS,DELAY -O "orig+a-$1@example.org" \
		-r "b-$1@nodsn.test" -N SUCCESS -O "orig-b-$1@example.org" \
		-r "fail-a-$1@utf8.test" -N FAILURE -O "orig-fail-a-$1@example.org" \
		"$PF_DIR/A.$1.eml" >"$PF_DIR/smtpcli.A.$1.log" 2>&1
}
submit_U() {
	mk_msg8 "$PF_DIR/U.$1.eml" "U.$1.$RUN_ID" "DSN test U $1 – Grüße"
	"$SMTPCLI" -v -t 60 -U -s "[127.0.0.1]:$PF_SMTP_PORT" -H client.postsift.test \
		-f sender@example.com -R FULL -E "$(envid_U "$1")" -B 8BITMIME \
		-r "josé-$1@utf8.test" -N FAILURE,DELAY \
		-r "rené-$1@nodsn.test" -N SUCCESS -O "orig-rené-$1@example.org" \
		-r "fail-zoë-$1@utf8.test" -N FAILURE,DELAY -O "orig-fail-u-$1@example.org" \
		"$PF_DIR/U.$1.eml" >"$PF_DIR/smtpcli.U.$1.log" 2>&1
}

# setup_instance NAME - a new instance with smtp-sink (relayhost) and
# the two recording servers (utf8.test with DSN, nodsn.test without)
setup_instance() {
	pf_new "$1"
	sink_start
	rsink_start dsn 1
	rsink_start nodsn 0
	printf 'utf8.test smtp:[127.0.0.1]:%s\nexample.com smtp:[127.0.0.1]:%s\nnodsn.test smtp:[127.0.0.1]:%s\n' \
		"$RS_PORT_dsn" "$RS_PORT_dsn" "$RS_PORT_nodsn" > "$PF_CONF/transport"
	settle "$PF_CONF/transport"
	pfc -e "transport_maps = texthash:$PF_CONF/transport" "smtputf8_enable = yes"
}

# hop_files DIR|sink - the dumps of a final hop (complete: used after
# the queue is empty or while waiting for a count)
hop_files() {
	if [ "$1" = sink ]; then rs_files "$SINK_DIR"; else rs_files "$1"; fi
}
# delivered_in DIR|sink RCPT - the dump file of the message for RCPT
delivered_in() {
	local l
	l=$(hop_files "$1") && [ -n "$l" ] || return 1
	# shellcheck disable=SC2086 # file names without blanks
	grep -l -m 1 -F "X-Rcpt-Args: <$2>" $l | head -n 1 | grep .
}
# n_delivered DIR|sink RCPT - how many dumps have RCPT
n_delivered() {
	local l
	l=$(hop_files "$1")
	[ -n "$l" ] || { echo 0; return; }
	# shellcheck disable=SC2086
	grep -l -F "X-Rcpt-Args: <$2>" $l | wc -l
}
# dsns - the DSNs (null sender) that reached the sender's domain
dsns() {
	local l
	l=$(rs_files "$RS_DIR_dsn")
	[ -n "$l" ] || return 0
	# shellcheck disable=SC2086
	grep -l '^X-Mail-Args: <>' $l
}
# dsn_about RCPT - the DSN whose Final-Recipient is RCPT
dsn_about() {
	local l
	l=$(dsns)
	[ -n "$l" ] || return 1
	# shellcheck disable=SC2086
	grep -l -E "^Final-Recipient: [a-z0-9-]*; *$1\$" $l | head -n 1 | grep .
}
# dsn_field FILE NAME - the value of the first NAME: field in FILE
dsn_field() { sed -n "s/^$2: *//p" "$1" | head -n 1; }
# dsn_summary FILE TAG - the fields that must be the same with and
# without the filter, TAG replaced with @TAG@
dsn_summary() {
	grep -E '^(Subject|Original-Envelope-Id|Final-Recipient|Original-Recipient|Action|Status|Content-Type|Content-Description):' "$1" |
		sed "s/$2/@TAG@/g"
	grep -q 'BODY-MARKER-' "$1" && echo "(body returned)"
}
# envelope_summary FILE TAG - MAIL and RCPT arguments at a final hop
envelope_summary() { { dump_mail_args "$1"; dump_rcpt_args "$1"; } | sed "s/$2/@TAG@/g"; }
# same_body EML DUMP - the final hop got the submitted message (LF form)
# after the header fields that Postfix and the filter add
same_body() {
	local got
	got=$PF_DIR/got.$$.eml
	case $2 in
	"$SINK_DIR"/*) sink_body "$2" ;;
	*) rs_body "$2" ;;
	esac | awk 'hdr && /^$/ { hdr = 0 }
		hdr && /^[ \t]/ { if (!skip) print; next }
		hdr { skip = ($0 ~ /^(Received|X-Virus-Scanned|X-Virus-Status|Return-Path):/) }
		!skip || !hdr { print }' hdr=1 > "$got"
	cmp "$1" "$got"
}

# all_arrived TAG - the 5 deliveries and the 4 DSNs of one round are in
all_arrived() {
	delivered_in sink "a-$1@example.net" &&
		delivered_in "$RS_DIR_nodsn" "b-$1@nodsn.test" &&
		delivered_in "$RS_DIR_dsn" "josé-$1@utf8.test" &&
		delivered_in "$RS_DIR_nodsn" "rené-$1@nodsn.test" &&
		[ "$(dsns | wc -l)" -ge 4 ]
}

# has WORD TEXT - TEXT, split at blanks, contains WORD
has() { printf '%s\n' "$2" | tr ' ' '\n' | grep -qxF -- "$1"; }
# args_have DIR|sink RCPT mail|rcpt WORD... - the dump for RCPT has every
# WORD among its MAIL arguments (mail) or in RCPT's line (rcpt)
args_have() {
	local f args w
	f=$(delivered_in "$1" "$2") || { echo "no message for $2"; return 1; }
	if [ "$3" = mail ]; then
		args=$(dump_mail_args "$f")
	else
		args=$(dump_rcpt_args "$f" | grep "^<$2>")
	fi
	shift 3
	for w in "$@"; do
		has "$w" "$args" || { echo "$w missing in: $args"; return 1; }
	done
}
# body_ok DIR|sink RCPT EML - RCPT got EML intact (8-bit bytes included)
body_ok() {
	local f
	f=$(delivered_in "$1" "$2") || { echo "no message for $2"; return 1; }
	same_body "$3" "$f"
}
# dsn_is RCPT FIELD VALUE - the DSN about RCPT has FIELD: VALUE
dsn_is() {
	local f v
	f=$(dsn_about "$1") || { echo "no DSN about $1"; return 1; }
	v=$(dsn_field "$f" "$2")
	[ "$v" = "$3" ] || { echo "$2: '$v', expected '$3'"; return 1; }
}
# dsn_returns RCPT headers|full EML - the DSN about RCPT returns the
# headers of EML only, or all of EML (its 8-bit body byte for byte)
dsn_returns() {
	local f
	f=$(dsn_about "$1") || { echo "no DSN about $1"; return 1; }
	grep -qxF "Subject: $(msg_header "$3" Subject)" "$f" || { echo "the original headers are not in the DSN"; return 1; }
	grep -qxF "Message-ID: $(msg_header "$3" Message-ID)" "$f" || { echo "the Message-ID is not in the DSN"; return 1; }
	if [ "$2" = headers ]; then
		grep -qE '^Content-Type: (text/rfc822-headers|message/global-headers)' "$f" || { echo "no headers part"; return 1; }
		! grep -q 'BODY-MARKER-' "$f" || { echo "the body was returned (RET=HDRS)"; return 1; }
	else
		grep -qE '^Content-Type: (message/rfc822|message/global)$' "$f" || { echo "no message part"; return 1; }
		# every line of the body, in order, 8-bit bytes and all
		LC_ALL=C awk 'NR == FNR { want[n++] = $0; next }
			i < n && $0 == want[i] { i++ }
			END { exit i < n }' <(msg_body "$3") "$f" || { echo "the body is not in the DSN"; return 1; }
	fi
}
# no_dsn_about RCPT
no_dsn_about() { ! dsn_about "$1" >/dev/null; }

# recipient_summary TAG - per recipient, in a fixed order: the MAIL and
# RCPT arguments at its final hop and the fields of the DSN about it
recipient_summary() {
	local t=$1 r where f
	for r in "sink a-$t@example.net" "$RS_DIR_nodsn b-$t@nodsn.test" \
		"$RS_DIR_dsn josé-$t@utf8.test" "$RS_DIR_nodsn rené-$t@nodsn.test"; do
		where=${r% *}
		r=${r##* }
		echo "== ${r//$t/@TAG@}"
		f=$(delivered_in "$where" "$r") && envelope_summary "$f" "$t"
	done
	for r in "b-$t@nodsn.test" "fail-a-$t@utf8.test" "rené-$t@nodsn.test" "fail-zoë-$t@utf8.test"; do
		echo "== DSN ${r//$t/@TAG@}"
		f=$(dsn_about "$r") && dsn_summary "$f" "$t"
	done
}

# run_round TAG LABEL - submit A and U, wait, check everything
run_round() {
	local t=$1 L=$2
	check "$L: A submitted (BODY=8BITMIME RET=HDRS ENVID NOTIFY ORCPT)" submit_A "$t"
	check "$L: U submitted (SMTPUTF8 BODY=8BITMIME RET=FULL ENVID NOTIFY ORCPT)" submit_U "$t"
	if wait_for 60 all_arrived "$t" >/dev/null 2>&1; then
		ok "$L: 4 deliveries and 4 DSNs within 60 s"
	else
		fail "$L: 4 deliveries and 4 DSNs within 60 s" \
			"smtp-sink $(sink_count), DSN hop $(rs_files "$RS_DIR_dsn" | wc -l), no-DSN hop $(rs_files "$RS_DIR_nodsn" | wc -l)"
	fi
	check "$L: queue empty" wait_queue_empty 30
	sleep 1
	local eA=$PF_DIR/A.$t.eml eU=$PF_DIR/U.$t.eml
	# message A at the hop with DSN (smtp-sink)
	check "$L: A at the DSN hop once" test "$(n_delivered sink "a-$t@example.net")" -eq 1
	check "$L: A MAIL keeps BODY=8BITMIME RET=HDRS ENVID" args_have sink "a-$t@example.net" mail \
		BODY=8BITMIME RET=HDRS "ENVID=$(xtext "$(envid_A "$t")")"
	check "$L: A RCPT keeps NOTIFY=SUCCESS,DELAY and ORCPT" args_have sink "a-$t@example.net" rcpt \
		NOTIFY=SUCCESS,DELAY "ORCPT=rfc822;$(xtext "orig+a-$t@example.org")"
	check "$L: A 8-bit body intact at the DSN hop" body_ok sink "a-$t@example.net" "$eA"
	# message A at the hop without DSN
	check "$L: A at the no-DSN hop once" test "$(n_delivered "$RS_DIR_nodsn" "b-$t@nodsn.test")" -eq 1
	check "$L: A MAIL keeps BODY=8BITMIME at the no-DSN hop" args_have "$RS_DIR_nodsn" "b-$t@nodsn.test" mail BODY=8BITMIME
	check "$L: A 8-bit body intact at the no-DSN hop" body_ok "$RS_DIR_nodsn" "b-$t@nodsn.test" "$eA"
	# message U
	check "$L: U at the DSN hop once" test "$(n_delivered "$RS_DIR_dsn" "josé-$t@utf8.test")" -eq 1
	check "$L: U MAIL keeps SMTPUTF8 BODY=8BITMIME RET=FULL ENVID" args_have "$RS_DIR_dsn" "josé-$t@utf8.test" mail \
		SMTPUTF8 BODY=8BITMIME RET=FULL "ENVID=$(xtext "$(envid_U "$t")")"
	check "$L: U RCPT <josé-$t@utf8.test> keeps NOTIFY=FAILURE,DELAY" args_have "$RS_DIR_dsn" "josé-$t@utf8.test" rcpt NOTIFY=FAILURE,DELAY
	check "$L: U (UTF-8 Subject, 8-bit body) intact at the DSN hop" body_ok "$RS_DIR_dsn" "josé-$t@utf8.test" "$eU"
	check "$L: U at the no-DSN hop once" test "$(n_delivered "$RS_DIR_nodsn" "rené-$t@nodsn.test")" -eq 1
	check "$L: U MAIL keeps SMTPUTF8 BODY=8BITMIME at the no-DSN hop" args_have "$RS_DIR_nodsn" "rené-$t@nodsn.test" mail SMTPUTF8 BODY=8BITMIME
	check "$L: U intact at the no-DSN hop" body_ok "$RS_DIR_nodsn" "rené-$t@nodsn.test" "$eU"
	# the DSNs
	check "$L: exactly 4 DSNs" test "$(dsns | wc -l)" -eq 4
	check "$L: no DSN about A's recipient at the DSN hop" no_dsn_about "a-$t@example.net"
	check "$L: no DSN about U's recipient at the DSN hop" no_dsn_about "josé-$t@utf8.test"
	check "$L: A success DSN: Action relayed" dsn_is "b-$t@nodsn.test" Action relayed
	check "$L: A success DSN: Status 2.0.0" dsn_is "b-$t@nodsn.test" Status 2.0.0
	check "$L: A success DSN: Original-Envelope-Id" dsn_is "b-$t@nodsn.test" Original-Envelope-Id "$(envid_A "$t")"
	check "$L: A success DSN: Original-Recipient" dsn_is "b-$t@nodsn.test" Original-Recipient "rfc822;orig-b-$t@example.org"
	check "$L: A success DSN: headers returned" dsn_returns "b-$t@nodsn.test" headers "$eA"
	check "$L: A failure DSN: Action failed" dsn_is "fail-a-$t@utf8.test" Action failed
	check "$L: A failure DSN: Status 5.1.1" dsn_is "fail-a-$t@utf8.test" Status 5.1.1
	check "$L: A failure DSN: Original-Envelope-Id" dsn_is "fail-a-$t@utf8.test" Original-Envelope-Id "$(envid_A "$t")"
	check "$L: A failure DSN: Original-Recipient" dsn_is "fail-a-$t@utf8.test" Original-Recipient "rfc822;orig-fail-a-$t@example.org"
	check "$L: A failure DSN: RET=HDRS, headers only" dsn_returns "fail-a-$t@utf8.test" headers "$eA"
	check "$L: U success DSN: Action relayed" dsn_is "rené-$t@nodsn.test" Action relayed
	check "$L: U success DSN: Original-Envelope-Id" dsn_is "rené-$t@nodsn.test" Original-Envelope-Id "$(envid_U "$t")"
	check "$L: U success DSN: Original-Recipient" dsn_is "rené-$t@nodsn.test" Original-Recipient "rfc822;orig-rené-$t@example.org"
	check "$L: U success DSN: headers returned" dsn_returns "rené-$t@nodsn.test" headers "$eU"
	check "$L: U failure DSN: Action failed" dsn_is "fail-zoë-$t@utf8.test" Action failed
	check "$L: U failure DSN: Original-Envelope-Id" dsn_is "fail-zoë-$t@utf8.test" Original-Envelope-Id "$(envid_U "$t")"
	check "$L: U failure DSN: Original-Recipient" dsn_is "fail-zoë-$t@utf8.test" Original-Recipient "rfc822;orig-fail-u-$t@example.org"
	check "$L: U failure DSN: RET=FULL, the whole 8-bit message" dsn_returns "fail-zoë-$t@utf8.test" full "$eU"
	recipient_summary "$t" > "$TESTROOT/summary.$t"
	if [ "$t" != ref ]; then
		check "$L: final hops and DSNs as without the filter" diff -u "$TESTROOT/summary.ref" "$TESTROOT/summary.$t"
		check "$L: both messages went through the filter (verdict=clean, status=sent)" \
			test "$(grep -c 'verdict=clean, action=pass, status=sent .*, from=<sender@example.com>, ' "$PS_LOG")" -eq 2
	fi
}

# ---------------------------------------------------------------- reference
t0=$SECONDS
setup_instance ref
ps_conf
pf_start
run_round ref "no filter"
note "reference round: $((SECONDS - t0))s"

# ---------------------------------------------------------------- daemon
# install advanced; the daemon reads only postsift.conf (smtpd_listen and
# reinject_target as install advanced prints them), started as root.
t0=$SECONDS
setup_instance dmn
ps_advanced_daemon daemon 2
run_round dmn "daemon"
ps_daemon_stop "$DAEMON"
note "daemon round: $((SECONDS - t0))s"

# ---------------------------------------------------------------- spawn
t0=$SECONDS
setup_instance spn
FPORT=$(free_port)
ps_conf
pf_start
check "spawn: install spawn" "$PP" install spawn -c "$PF_CONF" -u "$FILTER_USER" -p "$PS_CONF" \
	-b "$FILTER" -r "$PF_REINJECT_PORT" -P "$FPORT" -l "$PF_SMTP_PORT" -m 4
pf_wait_port "$FPORT" 10
pf_wait_port "$PF_REINJECT_PORT" 10
run_round spn "spawn"
note "spawn round: $((SECONDS - t0))s"

# ---------------------------------------------------------------- before-queue
t0=$SECONDS
setup_instance bq
FPORT=$(free_port)
ps_conf
pf_start
check "before-queue: install before-queue -s" "$PP" install before-queue -s -c "$PF_CONF" \
	-u "$FILTER_USER" -p "$PS_CONF" -b "$FILTER" -r "$PF_REINJECT_PORT" -P "$FPORT" \
	-l "$PF_SMTP_PORT" -m 4
pf_wait_port "$FPORT" 10
pf_wait_port "$PF_REINJECT_PORT" 10
run_round bq "before-queue"
note "before-queue round: $((SECONDS - t0))s"

finish
