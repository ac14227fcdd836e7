/*
 * scanmode - postsift-filter -m scan: the hand test
 *
 * Each message named (a file, or "-" for standard input; none: standard
 * input) is copied to an anonymous file, as pipe mode spools it, and
 * goes through decide_message(), the code path of every delivery mode;
 * the inspector's part report (inspector_report()) lists the parts.
 * Printed per message: each part (IMAP part number, file name, declared
 * and true type, size, finding), then the verdict, the configured action
 * and the detail; with --json one JSON object a line. Nothing is
 * delivered, stored or logged: the spool is a private directory under
 * $TMPDIR (or /tmp) made before the settings are read (spool_dir and
 * log_file are overridden), removed at the end. It runs as any user.
 *
 * The exit status is clamdscan's: 0 every message clean, 1 a finding
 * (infected, banned, rejected or unchecked: a verdict other than clean
 * that is about the message), 2 an error (a message that could not be
 * read or inspected, verdict error, a bad option); 2 wins over 1.
 */
#ifndef POSTSIFT_SCANMODE_H
#define POSTSIFT_SCANMODE_H

#include "lib/progstart.h"
#include "lib/vbuf.h"

#define SCANMODE_CLEAN  0
#define SCANMODE_FOUND  1
#define SCANMODE_ERROR  2

/* scanmode_prepare - the private spool directory, and the overrides
 * that point spool_dir at it and turn log_file off; before the settings
 * are read. -1 with why in err. */
int scanmode_prepare(PROG_OPTS *po, VBUF *err);

/* scanmode_main - inspect each file ("-": stdin; none: stdin), print,
 * clean up; the exit status */
int scanmode_main(int json, char *const *files, int nfiles);

/* scanmode_cleanup - remove the private spool directory (also on exit
 * paths that skip scanmode_main's end) */
void scanmode_cleanup(void);

#endif
