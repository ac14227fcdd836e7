#!/bin/sh
# tests/integ/shellfilter.sh - FILTER_README's simple shell filter
#
# Usage (pipe(8) argv): shellfilter.sh INSPECT_DIR [-C CONFIG_DIR] -f SENDER -- RECIPIENT...
#
# The example of Postfix's FILTER_README, with the inspection directory
# as the first argument: save the message, (inspect it,) and reinject it
# with "sendmail -G -i" and the remaining arguments. t01_shellfilter.sh
# runs it as the postsift user to prove that reinjection through
# sendmail -C works for a private instance.

INSPECT_DIR=$1
shift
SENDMAIL="/usr/sbin/sendmail -G -i" # NEVER NEVER NEVER use "-t" here.

# Exit codes from <sysexits.h>
EX_TEMPFAIL=75
EX_UNAVAILABLE=69

# Clean up when done or when aborting.
trap 'rm -f in.$$' 0 1 2 3 15

# Start processing.
cd "$INSPECT_DIR" || {
	echo "$INSPECT_DIR does not exist"; exit $EX_TEMPFAIL; }

cat >in.$$ || {
	echo Cannot save mail to file; exit $EX_TEMPFAIL; }

# Specify your content filter here.
# filter <in.$$ || {
#     echo Message content rejected; exit $EX_UNAVAILABLE; }
: $EX_UNAVAILABLE

$SENDMAIL "$@" <in.$$

exit $?
