/*
 * envelope - the SMTP envelope of one message, as every part of postsift
 * carries it: the SMTP client sends it, the filter builds it from pipe(8)
 * arguments or from an SMTP session, the quarantine stores it
 */
#ifndef POSTSIFT_ENVELOPE_H
#define POSTSIFT_ENVELOPE_H

#include "lib/vbuf.h"

/* SMTP_ADDRESS_MAX - the longest envelope address (octets, before any
 * quoting) that is relayed. RFC 5321 allows 256 octets in a path, but
 * Postfix accepts whatever fits its line_length_limit (2048 by default,
 * in SMTP commands and in queue file records alike); this is eight times
 * that. Every command smtpcli builds fits with addresses this long
 * (quoting at most doubles one, xtext at most triples an ORCPT). */
#define SMTP_ADDRESS_MAX (16 * 1024)

typedef struct SMTP_RCPT {
    const char *addr;       /* without <>, RFC 5321 form (quoting done by caller) */
    const char *notify;     /* NULL, or "NEVER" / "SUCCESS,FAILURE,DELAY" */
    const char *orcpt;      /* NULL, or "rfc822;addr" (xtext-encoded by smtpcli) */
} SMTP_RCPT;

typedef struct SMTP_ENVELOPE {
    const char *sender;     /* "" for the null sender */
    const char *ret;        /* NULL, "FULL" or "HDRS" */
    const char *envid;      /* NULL or the ENVID (xtext-encoded by smtpcli) */
    const char *body;       /* NULL, "7BIT" or "8BITMIME" */
    int         smtputf8;   /* send SMTPUTF8 */
    long long   size;       /* >0: send SIZE= */
    SMTP_RCPT  *rcpt;
    int         nrcpt;
    /* XFORWARD attributes; NULL = not sent. Values go out xtext-safe. */
    const char *xf_name, *xf_addr, *xf_port, *xf_proto, *xf_helo, *xf_ident, *xf_source;
} SMTP_ENVELOPE;

 /*
  * The command-line options that carry envelope data, one parser for
  * every program (postsift-filter, postsift-reinject, postsift-smtpcli).
  */

/* ENVELOPE_EMPTY_UNAVAILABLE - an empty -X value is kept, and so sent as
 * [UNAVAILABLE] (postsift-smtpcli); without it an empty value is ignored,
 * as pipe(8) gives an empty ${client_helo} for local mail */
#define ENVELOPE_EMPTY_UNAVAILABLE (1 << 0)

/* envelope_xforward_option - "-X attr=value": attr is one of the seven
 * XFORWARD attributes (addr, name, helo, proto, port, source, ident, in
 * any case); value points into arg. Returns 0, or -1 with the reason in
 * err ("-X needs attr=value", "-X: unknown attribute (...)"). */
int     envelope_xforward_option(SMTP_ENVELOPE *env, const char *arg, int flags, VBUF *err);

/* envelope_orcpt_option - "-O orcpt" as the original recipient of
 * recipient i of env: one leading '=' is dropped (pipe(8)'s
 * -O=${original_recipient}, where the '=' keeps an empty value from
 * taking the next argument), an empty value sets none; value points into
 * arg. Returns 0, or -1 with the reason in err: i is no recipient of env,
 * or the value is longer than SMTP_ADDRESS_MAX ("original recipient too
 * long (N bytes, at most 16384)"). */
int     envelope_orcpt_option(SMTP_ENVELOPE *env, int i, const char *arg, VBUF *err);

#endif
