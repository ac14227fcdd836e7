#!/bin/bash
# t40_milter - postsift-filter -m milter before the queue of a real
# Postfix (smtpd_milters), in-process libclamav with the test signatures:
#   clean mail, 8BITMIME and SMTPUTF8 included, is delivered byte for byte
#     but for our X-Virus-Scanned header, and logged with Postfix's queue
#     id and the client;
#   every clamav-testfiles file is refused with 5.7.1 at the end of data
#     and nothing is queued; a banned ELF binary is refused;
#   quarantine_method = hold: the message lands in Postfix's hold queue,
#     postsuper -H delivers it; store: it lands in quarantine_dir, Postfix
#     discards it, postsift-reinject --release delivers it;
#   the milter down: the client gets 4xx, nothing is queued, the same
#     message is accepted once the milter is back; kill -9 of the worker
#     serving a session in the middle of its DATA: 4xx, nothing queued,
#     the message sent again is delivered once;
#   500 messages in 4 concurrent sessions while a signature file is added
#     and SIGHUP arrives twice: every one accepted (zero 4xx) and delivered.

. "$(dirname "$0")/lib.sh"
need_root
need_prog postfix postconf postsuper postqueue smtp-sink perl python3 sigtool runuser ss
getent passwd "$FILTER_USER" >/dev/null || die "no user $FILTER_USER (run scripts/install-deps)"
FILTER=$BUILD_DIR/bin/postsift-filter
[ -x "$FILTER" ] || die "no $FILTER (run make)"
[ -x "$BUILD_DIR/bin/postsift-reinject" ] || die "no $BUILD_DIR/bin/postsift-reinject (run make)"
SEND=$TOP/tests/integ/smtpsend.pl
RAW=$TOP/tests/integ/smtpraw.py

TESTFILES=/usr/share/clamav-testfiles
mapfile -t files < <(find "$TESTFILES" -maxdepth 1 -type f -printf '%f\n' | LC_ALL=C sort)
nfiles=${#files[@]}
[ "$nfiles" -ge 40 ] || die "only $nfiles files in $TESTFILES"
note "$nfiles test files"
LOAD=500
plan $((49 + nfiles))

testroot_init
pf_new mil
MPORT=$(free_port) || die "no free port"
mkdir -p "$PF_DIR/dsigs"
ps_conf "milter_listen=inet:127.0.0.1:$MPORT" milter_workers=6 \
	"milter_pid_file=$PF_DIR/ps/milter.pid" virus_action=reject banned_action=reject \
	"clamav_database_directory=$PF_DIR/dsigs" signature_check_interval=1s
cp "$TESTROOT/sigs/"* "$PF_DIR/dsigs/"
chmod -R go+rX "$PF_DIR/dsigs"
pf_reinject_service
# smtp-sink does not announce SMTPUTF8: the SMTPUTF8 message goes to a
# small sink of our own that does (u8sink, below)
U8PORT=$(free_port) || die "no free port"
U8DIR=$PF_DIR/u8sink
mkdir -p "$U8DIR"
pfc -e "smtpd_milters = inet:127.0.0.1:$MPORT" "milter_default_action = tempfail" \
	"milter_protocol = 6" "transport_maps = inline:{utf8@example.net=smtp:[127.0.0.1]:$U8PORT}"
cat > "$PF_DIR/u8sink.py" <<'PYEOF'
# u8sink PORT DIR - an SMTP sink that announces 8BITMIME and SMTPUTF8;
# each MAIL line goes to DIR/mail, each message (dots unstuffed, CRLF as
# LF) to DIR/msg.N
import os, socket, sys
port, d = int(sys.argv[1]), sys.argv[2]
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(8)
n = 0
while True:
    c, _ = srv.accept()
    f = c.makefile("rb")
    c.sendall(b"220 u8sink ESMTP\r\n")
    while True:
        line = f.readline()
        if not line:
            break
        verb = line[:4].upper()
        if verb == b"EHLO":
            c.sendall(b"250-u8sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
        elif verb == b"MAIL":
            with open(os.path.join(d, "mail"), "ab") as m:
                m.write(line.rstrip(b"\r\n") + b"\n")
            c.sendall(b"250 2.1.0 Ok\r\n")
        elif verb == b"DATA":
            c.sendall(b"354 go ahead\r\n")
            data = b""
            while True:
                line = f.readline()
                if line in (b".\r\n", b""):
                    break
                if line.startswith(b"."):
                    line = line[1:]
                data += line.replace(b"\r\n", b"\n")
            n += 1
            with open(os.path.join(d, "msg.tmp"), "wb") as m:
                m.write(data)
            os.rename(os.path.join(d, "msg.tmp"), os.path.join(d, "msg.%d" % n))
            c.sendall(b"250 2.0.0 Ok\r\n")
        elif verb == b"QUIT":
            c.sendall(b"221 Bye\r\n")
            break
        else:
            c.sendall(b"250 2.0.0 Ok\r\n")
    c.close()
PYEOF
python3 "$PF_DIR/u8sink.py" "$U8PORT" "$U8DIR" >"$PF_DIR/u8sink.log" 2>&1 &
_ps_daemons+=("$!")
sink_start
pf_start
pf_wait_port "$PF_REINJECT_PORT" 10

# milter_start NAME [ARGS...] - the milter daemon in the foreground, as
# root (it drops to the filter user); pid in MILTER
milter_start() {
	local name=$1
	shift
	"$FILTER" -m milter -F -c "$PS_CONF" "$@" >"$PF_DIR/$name.out" 2>&1 &
	MILTER=$!
	_ps_daemons+=("$MILTER")
	pf_wait_port "$MPORT" 15
}
# milter_stop - SIGTERM it and wait
milter_stop() { ps_daemon_stop "$MILTER" 10; }
# reinject ARGS... - postsift-reinject as the filter user, with $PS_CONF
reinject() { runuser -u "$FILTER_USER" -- "$BUILD_DIR/bin/postsift-reinject" -c "$PS_CONF" "$@"; }
# qlist - the quarantine entries, one a line
qlist() { reinject --list | grep -v '^quarantine .* is empty$'; }
# queued - how many messages qmgr has seen
queued() { grep -cE 'qmgr\[[0-9]+\]: [0-9A-F]+: from=' "$(pf_log)"; }
# send NAME FILE... - one session to the public smtpd; replies in
# $PF_DIR/NAME.replies ("FILE<TAB>reply")
send() {
	local name=$1
	shift
	: > "$PF_DIR/$name.replies"
	perl "$SEND" "$PF_SMTP_PORT" sender@example.com "${SEND_RCPT:-rcpt@example.net}" \
		"$PF_DIR/$name.replies" "$@" >>"$PF_DIR/smtpsend.log" 2>&1
}
# reply_of NAME FILE - the recorded reply to FILE
reply_of() { awk -F '\t' -v f="$2" '$1 == f { print $2 }' "$PF_DIR/$1.replies"; }
# qid_in REPLY - the queue id of "250 ... queued as ID"
qid_in() { sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p' <<<"$1"; }
# sink_subject SUBJECT - the sink messages whose Subject is SUBJECT
sink_subject() {
	local m
	for m in $(sink_messages); do
		[ "$(msg_header "$m" Subject)" = "$1" ] && echo "$m"
	done
	return 0
}
# unchanged ORIG SINKMSG - the message Postfix delivered is ORIG byte for
# byte once Postfix's own Received header and our X-Virus-Scanned header
# are taken out
unchanged() {
	local body=sink_body
	[ "$(dirname "$2")" = "$U8DIR" ] && body=cat
	$body "$2" | awk '
		NR == 1 && /^Received: / { rcvd = 1; next }
		rcvd && /^[ \t]/ { next }
		{ rcvd = 0 }
		hdr == 0 && /^X-Virus-Scanned: / { next }
		/^$/ { hdr = 1 }
		{ print }' > "$PF_DIR/unchanged.out"
	cp "$2" "$PF_DIR/unchanged.$(basename "$1").sink" 2>/dev/null
	cmp "$1" "$PF_DIR/unchanged.out"
}

# ---------------------------------------------------------------- clean mail
milter_start m1
require "start: the milter listens on $MPORT" pf_wait_port "$MPORT" 1
mk_msg "$PF_DIR/plain.eml" "milter plain message"
{
	# Date and Message-ID given: Postfix adds them to a local client's
	# message without them, and the check below wants only our header
	cat <<'EOF'
From: Sender <sender@example.com>
To: Rcpt <rcpt@example.net>
Subject: milter 8bit message
Date: Mon, 01 Jan 2024 00:00:00 +0000
Message-ID: <t40-8bit@postsift.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: 8bit

EOF
	printf 'Gr\xfc\xdfe aus K\xf6ln, \xe9t\xe9, na\xefve.\n.dot line\n\ttab line \n'
} > "$PF_DIR/8bit.eml"
printf 'From: Jos\xc3\xa9 <sender@example.com>\nTo: rcpt@example.net\nSubject: milter utf8 message\nDate: Mon, 01 Jan 2024 00:00:00 +0000\nMessage-ID: <t40-utf8@postsift.test>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nGr\xc3\xbc\xc3\x9fe, \xe2\x82\xac 5, \xf0\x9f\x93\xa8.\n' \
	> "$PF_DIR/utf8.eml"
check "clean: plain message accepted" send plain "$PF_DIR/plain.eml"
SMTPSEND_MAIL_PARAMS="BODY=8BITMIME" check "clean: 8BITMIME message accepted" \
	send 8bit "$PF_DIR/8bit.eml"
SEND_RCPT=utf8@example.net SMTPSEND_MAIL_PARAMS="BODY=8BITMIME SMTPUTF8" \
	check "clean: SMTPUTF8 message accepted" send utf8 "$PF_DIR/utf8.eml"
for t in plain 8bit utf8; do
	r=$(reply_of "$t" "$PF_DIR/$t.eml")
	note "$t: $r"
	eval "qid_$t=\$(qid_in \"\$r\")"
done
check "clean: all three delivered" eval "sink_wait 2 30 && wait_for 30 test -e '$U8DIR/msg.1'"
m_plain=$(sink_subject "milter plain message")
m_8bit=$(sink_subject "milter 8bit message")
m_utf8=$U8DIR/msg.1
check "clean: plain message unchanged but for X-Virus-Scanned" unchanged "$PF_DIR/plain.eml" "${m_plain:-/dev/null}"
check "clean: 8bit message unchanged but for X-Virus-Scanned" unchanged "$PF_DIR/8bit.eml" "${m_8bit:-/dev/null}"
check "clean: SMTPUTF8 message unchanged but for X-Virus-Scanned" unchanged "$PF_DIR/utf8.eml" "${m_utf8:-/dev/null}"
check "clean: one X-Virus-Scanned header, ours" \
	test "$(grep -c '^X-Virus-Scanned: postsift ' "${m_plain:-/dev/null}")" -eq 1
check "clean: SMTPUTF8 kept on the envelope" grep -q ' SMTPUTF8' "$U8DIR/mail"
check "clean: logged with Postfix's queue id and the client" \
	grep -qE "[] :]${qid_plain:-NONE}: verdict=clean, action=pass, .*, client=[^ ]*\[127\.0\.0\.1\], " "$PS_LOG"
check "clean: the 8bit message logged clean" \
	grep -qE "[] :]${qid_8bit:-NONE}: verdict=clean, .*, client=" "$PS_LOG"

# ---------------------------------------------------------------- refusals
sink_clear
q0=$(queued)
: > "$PF_DIR/list"
for f in "${files[@]}"; do
	mk_msg_attach "$PF_DIR/tf.$f.eml" "$TESTFILES/$f"
	echo "$PF_DIR/tf.$f.eml" >> "$PF_DIR/list"
done
mapfile -t l < "$PF_DIR/list"
# Postfix's smtpd slows down after smtpd_soft_error_limit refusals in a
# session: sessions of 9 messages
: > "$PF_DIR/tf.all"
for ((i = 0; i < ${#l[@]}; i += 9)); do
	send tf "${l[@]:i:9}"
	cat "$PF_DIR/tf.replies" >> "$PF_DIR/tf.all"
done
for f in "${files[@]}"; do
	r=$(awk -F '\t' -v f="$PF_DIR/tf.$f.eml" '$1 == f { print $2 }' "$PF_DIR/tf.all")
	case $r in
	554" 5.7.1 "*) ok "testfiles: $f refused with 554 5.7.1" ;;
	*) fail "testfiles: $f" "reply: ${r:-none}" ;;
	esac
done
check "testfiles: $nfiles infected, rejected in the filter log" \
	test "$(grep -c ': verdict=infected, action=reject, status=rejected ' "$PS_LOG")" -eq "$nfiles"
cp /bin/true "$PF_DIR/true.bin"
mk_msg_attach "$PF_DIR/elf.eml" "$PF_DIR/true.bin" report.txt text/plain
send elf "$PF_DIR/elf.eml"
check "banned: an ELF binary named report.txt refused with 554 5.7.1" \
	eval "reply_of elf '$PF_DIR/elf.eml' | grep -q '^554 5\.7\.1 '"
check "banned: logged as banned" grep -q ': verdict=banned, action=reject, ' "$PS_LOG"
sleep 1
check "refusals: nothing queued" test "$(queued)" -eq "$q0"
check "refusals: nothing at the sink" test "$(sink_count)" -eq 0
check "refusals: nothing bounced" eval "! grep -q 'status=bounced' '$(pf_log)'"
milter_stop

# ---------------------------------------------------------------- hold
printf '%s\n' "$EICAR" > "$PF_DIR/eicar.txt"
mk_msg_attach "$PF_DIR/hold.eml" "$PF_DIR/eicar.txt" eicar.txt text/plain
milter_start m2 -o virus_action=quarantine -o quarantine_method=hold
send hold "$PF_DIR/hold.eml"
qid=$(qid_in "$(reply_of hold "$PF_DIR/hold.eml")")
note "hold: queue id ${qid:-none}"
check "hold: the infected message accepted" test -n "$qid"
check "hold: it is in Postfix's hold queue" \
	wait_for 10 eval "pf_postqueue | grep -qE '^${qid:-NONE}!'"
# Postfix logs a fixed text with milter-hold ("milter triggers HOLD
# action"), not the milter's reason: the reason is in our log line
check "hold: Postfix logged the hold (milter-hold)" \
	grep -qE "${qid:-NONE}: milter-hold: " "$(pf_log)"
check "hold: the filter logged it held, with the reason" grep -qE "${qid:-NONE}: verdict=infected, action=quarantine, status=held .*, detail=\".*Eicar.*, client=" "$PS_LOG"
sleep 1
check "hold: not delivered while held" test "$(sink_count)" -eq 0
postsuper -c "$PF_CONF" -H "${qid:-NONE}" >/dev/null 2>&1
pf_flush
check "hold: postsuper -H delivers it" sink_wait 1 30
m=$(sink_messages | head -n 1)
check "hold: the delivered message is the held one" \
	test "$(sink_subject 'postsift attachment test eicar.txt' | wc -l)" -eq 1
milter_stop

# ---------------------------------------------------------------- store
sink_clear
milter_start m3 -o virus_action=quarantine -o quarantine_method=store
q0=$(queued)
send store "$PF_DIR/hold.eml"
r=$(reply_of store "$PF_DIR/hold.eml")
qid=$(qid_in "$r")
check "store: the client gets 250" eval "[[ '$r' == 250* ]]"
check "store: one entry in quarantine_dir" wait_for 10 eval "test \$(qlist | wc -l) -eq 1"
id=$(qlist | awk 'NR == 1 { print $1 }')
check "store: the entry has the envelope and Postfix's queue id" \
	eval "qlist | grep -q 'from=<sender@example.com> to=<rcpt@example.net> verdict=infected' && grep -q '^queue_id: ${qid:-NONE}\$' '$PF_DIR/ps/quarantine/$id'"
check "store: Postfix discarded it (milter-discard), nothing delivered" \
	eval "grep -qE '${qid:-NONE}: milter-discard' '$(pf_log)' && test \$(sink_count) -eq 0"
check "store: postsift-reinject --release sends it on" reinject --release "$id"
check "store: the released message arrives" sink_wait 1 30
check "store: the quarantine is empty again" test "$(qlist | wc -l)" -eq 0

# ---------------------------------------------------------------- milter down
sink_clear
milter_stop
mk_msg "$PF_DIR/down.eml" "milter down message"
q0=$(queued)
send down "$PF_DIR/down.eml"
r=$(reply_of down "$PF_DIR/down.eml")
note "milter down: $r"
check "down: the client gets 4xx" eval "[[ '$r' == 4* ]]"
sleep 1
check "down: nothing queued" test "$(queued)" -eq "$q0"
milter_start m4
send down2 "$PF_DIR/down.eml"
check "down: the same message accepted once the milter is back" \
	eval "reply_of down2 '$PF_DIR/down.eml' | grep -q '^250 '"
check "down: delivered once" eval "sink_wait 1 30 && sleep 1 && test \$(sink_subject 'milter down message' | wc -l) -eq 1"

# ---------------------------------------------------------------- kill -9
sink_clear
q0=$(queued)
rm -f "$PF_DIR/ready" "$PF_DIR/go"
python3 "$RAW" pausedata "$PF_SMTP_PORT" rcpt@example.net "milter killed session" \
	"$PF_DIR/ready" "$PF_DIR/go" > "$PF_DIR/pause.out" 2>&1 &
client=$!
wait_for 30 test -e "$PF_DIR/ready"
# the worker holding the milter connection of that SMTP session
victim=$(ss -Htnp state established "( sport = :$MPORT )" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u)
note "kill -9: worker(s) ${victim:-none} of $(pgrep -P "$MILTER" | tr '\n' ' ')"
check "kill -9: one worker serves the session" test "$(wc -w <<<"$victim")" -eq 1
[ -n "$victim" ] && kill -KILL $victim
touch "$PF_DIR/go"
wait "$client"
r=$(sed -n 's/^REPLY //p' "$PF_DIR/pause.out")
note "kill -9: $r"
check "kill -9: the client gets 4xx at the end of data" eval "[[ '$r' == 4* ]]"
sleep 1
check "kill -9: nothing queued" test "$(queued)" -eq "$q0"
check "kill -9: the master replaced the worker" wait_for 10 eval "test \$(pgrep -P $MILTER | wc -l) -eq 6"
python3 "$RAW" pausedata "$PF_SMTP_PORT" rcpt@example.net "milter killed session" \
	"$PF_DIR/ready2" "$PF_DIR/go" > "$PF_DIR/pause2.out" 2>&1
check "kill -9: sent again, accepted" grep -q '^REPLY 250 ' "$PF_DIR/pause2.out"
check "kill -9: delivered once" eval "sink_wait 1 30 && sleep 1 && test \$(sink_subject 'milter killed session' | wc -l) -eq 1"

# ---------------------------------------------------------------- reload under load
sink_clear
mk_msg "$PF_DIR/load.eml" "milter load message"
per=$((LOAD / 4))
log0=$(wc -l < "$(pf_log)")
reloads0=$(grep -c 'signatures reloaded:' "$PS_LOG")
pids=()
for s in 1 2 3 4; do
	args=()
	for ((i = 0; i < per; i++)); do args+=("$PF_DIR/load.eml"); done
	: > "$PF_DIR/load$s.replies"
	perl "$SEND" "$PF_SMTP_PORT" sender@example.com "load$s@example.net" \
		"$PF_DIR/load$s.replies" "${args[@]}" >>"$PF_DIR/smtpsend.log" 2>&1 &
	pids+=($!)
done
sleep 1
NEWSIG=postsift-t40-new-signature-$RANDOM$RANDOM
printf 'Postsift-T40-New:0:*:%s\n' "$(printf '%s' "$NEWSIG" | od -An -v -tx1 | tr -d ' \n')" \
	> "$PF_DIR/dsigs/new.ndb"
chmod 644 "$PF_DIR/dsigs/new.ndb"
sleep 1
kill -HUP "$MILTER"
sleep 1.5
kill -HUP "$MILTER"
for p in "${pids[@]}"; do wait "$p"; done
cat "$PF_DIR"/load[1-4].replies > "$PF_DIR/load.all"
n250=$(grep -c '	250 ' "$PF_DIR/load.all")
note "load: $(wc -l < "$PF_DIR/load.all") replies, $n250 of them 250; $(cut -f2 "$PF_DIR/load.all" | cut -c1-3 | sort | uniq -c | tr '\n' ' ')"
check "load: $LOAD messages accepted, zero 4xx" test "$n250" -eq "$LOAD"
check "load: reloaded at least twice meanwhile" \
	test "$(grep -c 'signatures reloaded:' "$PS_LOG")" -ge $((reloads0 + 2))
check "load: all $LOAD delivered" sink_wait "$LOAD" 240
# only the lines of the load: the kill -9 above left its own warning
check "load: no milter trouble in Postfix's log" \
	eval "! tail -n +$((log0 + 1)) '$(pf_log)' | grep -qE 'warning: milter|milter.*(timeout|lost)|milter-reject: .* 4\.'"
printf 'From: a@example.com\nTo: b@example.net\nSubject: new sig\n\n%s\n' "$NEWSIG" > "$PF_DIR/newsig.eml"
send newsig "$PF_DIR/newsig.eml"
check "load: the new signature is in force after the reload" \
	eval "reply_of newsig '$PF_DIR/newsig.eml' | grep -q '^554 5\.7\.1 .*Postsift-T40-New'"
# not through check: its subshell cannot wait for the daemon
rc=0
milter_stop || rc=$?
check "stop: SIGTERM ends the milter with status 0" test "$rc" -eq 0
check "stop: no worker left" eval "! pgrep -P $MILTER >/dev/null"

finish
