#!/usr/bin/perl
# smtpsend.pl - one SMTP session, one transaction per message file
#
#   perl smtpsend.pl PORT SENDER RCPT OUT FILE...
#
# Connects to 127.0.0.1:PORT, says EHLO, and sends each FILE (LF or
# CRLF line ends; sent with CRLF and dot-stuffing) from SENDER to RCPT.
# OUT gets one line per FILE, "FILE<TAB>reply", with the last line of
# the reply that ended the transaction (the end of data, or the MAIL,
# RCPT or DATA refusal); "000 ..." when the connection was lost. A
# refused transaction is followed by RSET. SMTPSEND_MAIL_PARAMS, when
# set, is appended to every MAIL FROM (e.g. "BODY=8BITMIME SMTPUTF8").
#
# Independent of postsift's own client code, so that the tests do not
# check the filter with the filter's own library.
use strict;
use warnings;
use IO::Socket::INET;

my ($port, $sender, $rcpt, $out, @files) = @ARGV;
die "usage: smtpsend.pl PORT SENDER RCPT OUT FILE...\n" unless @files;
my $params = $ENV{SMTPSEND_MAIL_PARAMS} // '';
$params = " $params" if $params ne '';
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
	Proto => 'tcp', Timeout => 60) or die "connect $port: $!\n";
binmode $s;
$s->autoflush(1);

# reply - the last line of the next reply
sub reply {
	my $last = '';
	while (defined(my $l = <$s>)) {
		$l =~ s/\r?\n\z//;
		$last = $l;
		return $l if $l =~ /^\d{3}(?: |\z)/;
	}
	return "000 connection lost after: $last";
}
sub cmd { print $s "$_[0]\r\n"; return reply(); }

# data - the message of FILE, dot-stuffed, then the final dot's reply
sub data {
	my ($f) = @_;
	open(my $fh, '<', $f) or die "$f: $!\n";
	binmode $fh;
	while (my $l = <$fh>) {
		$l =~ s/\r?\n\z//;
		$l =~ s/^\./../;
		print $s "$l\r\n";
	}
	close $fh;
	return cmd(".");
}

open(my $o, '>>', $out) or die "$out: $!\n";
$o->autoflush(1);
my $r = reply();
die "greeting: $r\n" unless $r =~ /^220/;
$r = cmd("EHLO client.postsift.test");
die "EHLO: $r\n" unless $r =~ /^250/;
for my $f (@files) {
	$r = cmd("MAIL FROM:<$sender>$params");
	$r = cmd("RCPT TO:<$rcpt>") if $r =~ /^250/;
	$r = cmd("DATA") if $r =~ /^250/;
	$r = data($f) if $r =~ /^354/;
	print $o "$f\t$r\n";
	last if $r =~ /^(?:000|421)/;
	cmd("RSET") unless $r =~ /^250/;
}
cmd("QUIT");
close $o;
