#!/bin/sh
# cmdscan.sh - a command scanner for t15_command, in postprox's contract:
# exit 1 with a reason on stderr when the message ($EMAIL) holds the word
# given as the first argument (command_arguments), exit 2 when it holds
# CMDSCAN-ERROR, sleep past any deadline when it holds CMDSCAN-SLOW,
# exit 0 otherwise. Envelope variables are only ever quoted.
word=${1:-forbidden}
if grep -qF CMDSCAN-ERROR "$EMAIL"; then
	echo "cmdscan: simulated failure for <$SENDER>" >&2
	exit 2
fi
if grep -qF CMDSCAN-SLOW "$EMAIL"; then
	sleep 60
	exit 0
fi
if grep -qiF -- "$word" "$EMAIL"; then
	echo "checked $RECIPIENTCOUNT recipient(s)" >&2
	echo "550 5.7.0 message contains the word $word" >&2
	exit 1
fi
exit 0
