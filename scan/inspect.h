/*
 * inspect - everything done to a spooled message to reach a verdict
 *
 * Walk the spool file with mimewalk (GMime within the MIME limits: every
 * leaf part, nested message/rfc822 included, every preamble and epilogue,
 * and the file names of what lies beyond the limits), decode each part,
 * take its file names (RFC 2047/2231 decoded, NUL bytes seen through) and
 * its libmagic type, apply the banned rules, list the members of archives
 * (archive_walk), find uuencoded, yEnc and BinHex files in text and give
 * them the same, and run the malware scanner. Ambiguous MIME (parser
 * warnings such as duplicate boundaries or parameters) or an exceeded
 * limit adds a scan of the raw message through libclamav's own mail
 * parser; what stays ambiguous is unchecked, and banned or infected wins
 * over it. Then the command scanners, if any are listed, see the whole
 * message once (unless it is banned, infected or in error already: their
 * answer could not change the action); one may reject it (rejected) or
 * hand back a replacement. One code path for the pipe and smtpd modes.
 */
#ifndef POSTSIFT_INSPECT_H
#define POSTSIFT_INSPECT_H

#include "scan/avscan.h"
#include "scan/mimewalk.h"
#include "scan/verdict.h"
#include "lib/envelope.h"
#include "lib/vbuf.h"

typedef struct INSPECTOR INSPECTOR;

typedef struct INSPECT_RESULT {
    VERDICT verdict;        /* worst finding */
    VBUF   *detail;         /* one line for logs and X-Virus-Status,
                             * e.g. "Eicar-Test-Signature in part 2 (eicar.com)" */
    VBUF   *virname;        /* malware name when infected, else "" */
    int     nparts;         /* leaf parts inspected */
    int     reject_code;    /* rejected: the SMTP code a command asked for (5xx) */
    char    reject_dsn[16]; /* rejected: its enhanced status code (5.x.x) */
    int     replacement;    /* a command's replacement message (ours until
                             * taken: then set it to -1), or -1 */
} INSPECT_RESULT;

/*
 * The part report: a hook for those who show what was inspected
 * (postsift-filter -m scan). After each part mimewalk handed over is
 * done (a leaf, a preamble or epilogue with more than the usual "This is
 * a multi-part message" words, or the file names of a part beyond the
 * limits), the hook gets it with its true type and the worst finding in
 * it (its archive members and inline files included). Findings about the
 * message as a whole (ambiguous MIME, the raw scan, the command
 * scanners) belong to no part: they are only in the result.
 */
typedef struct INSPECT_PART {
    const MIMEWALK_PART *part;  /* path, kind, names, declared type, size */
    const char *type;           /* its true type (libmagic); NULL: names only */
    VERDICT verdict;            /* the worst finding in it, or clean */
    const char *detail;         /* that finding's words, "" when clean */
} INSPECT_PART;

typedef void (*INSPECT_REPORT_FN) (const INSPECT_PART *part, void *context);

/* inspector_report - call fn for each part of every later inspection
 * (NULL: no more reports); the verdicts do not change */
void inspector_report(INSPECTOR *in, INSPECT_REPORT_FN fn, void *context);

/* inspector_open - GMime, libmagic and the scanner from the settings;
 * NULL with why in err (a broken environment: the caller defers) */
INSPECTOR *inspector_open(VBUF *err);
void inspector_close(INSPECTOR *in);

/* inspector_engine - the scanner's version text for X-Virus-Scanned */
const char *inspector_engine(INSPECTOR *in);

/* inspector_avscan - the malware scanner, for its signature count and
 * avscan_changed() (the daemon's reload) */
AVSCAN *inspector_avscan(INSPECTOR *in);

void inspect_result_init(INSPECT_RESULT *res);
void inspect_result_free(INSPECT_RESULT *res);

/* inspect_message - inspect the message in fd (from offset 0). Never
 * fails: trouble is VERDICT_ERROR with the reason in detail. */
void inspect_message(INSPECTOR *in, int fd, INSPECT_RESULT *res);

/* inspect_message_env - the same, with the envelope for the command
 * scanners (NULL: they get empty envelope variables) */
void inspect_message_env(INSPECTOR *in, int fd, const SMTP_ENVELOPE *env, INSPECT_RESULT *res);

#endif
