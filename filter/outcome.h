/*
 * outcome - what a decision means for a front end
 *
 * decide_message() says what to do with a message (an ACTION); each mode
 * says it in its own terms: pipe mode with the first output line and an
 * exit status for pipe(8) (0, 69, 75), smtpd mode with an SMTP reply,
 * milter mode with a milter reply (an SMTP reply that Postfix gives its
 * client, a discard, or a hold in Postfix's hold queue).
 * This module is the one table of those meanings, so that the modes
 * cannot drift apart: for every action, what becomes of the message
 * (relayed, dropped, quarantined, refused, deferred), the SMTP code and
 * enhanced status code, the exit status, the text, and the status and
 * reason of the log line. Relaying itself (reinjection, the downstream
 * DATA) and storing in the quarantine stay with the modes.
 */
#ifndef POSTSIFT_OUTCOME_H
#define POSTSIFT_OUTCOME_H

#include "scan/decide.h"
#include "scan/verdict.h"
#include "lib/vbuf.h"

typedef enum OUTCOME_MODE {
    OUTCOME_PIPE,               /* pipe(8): first output line, exit status */
    OUTCOME_SMTPD,              /* an SMTP reply to the client */
    OUTCOME_MILTER,             /* a milter reply to Postfix */
    OUTCOME_MODE_COUNT
} OUTCOME_MODE;

typedef enum OUTCOME_DO {
    OUTCOME_RELAY,              /* send on; the downstream's answer is ours */
    OUTCOME_DROP,               /* accept and drop */
    OUTCOME_QUARANTINE,         /* store, then drop (outcome_stored after) */
    OUTCOME_REFUSE,             /* a permanent refusal */
    OUTCOME_DEFER,              /* a temporary failure */
    OUTCOME_HOLD,               /* accepted into Postfix's hold queue
                                 * (milter, quarantine_method = hold) */
} OUTCOME_DO;

/* quarantine_method values */
#define OUTCOME_METHOD_STORE    0       /* quarantine_dir, then drop */
#define OUTCOME_METHOD_HOLD     1       /* Postfix's hold queue (milter only) */

typedef struct OUTCOME {
    OUTCOME_DO todo;
    int     code;               /* SMTP reply code; 0 for a relay */
    const char *dsn;            /* enhanced status code; NULL for a relay */
    int     exit_status;        /* pipe mode: EXIT_DONE, _REFUSED, _TEMPFAIL */
    VBUF   *text;               /* the reply after code and dsn, or the
                                 * output line after the dsn */
    const char *status;         /* the log line's status= */
    VBUF   *why;                /* and its reason */
    VBUF   *queued_as;          /* the quarantine id, once stored */
} OUTCOME;

void    outcome_init(OUTCOME *o);
void    outcome_free(OUTCOME *o);

/* outcome_for - what decision d means in mode. For a relay only todo is
 * set (and status, "sent"): the downstream answers; for a quarantine the
 * rest waits for outcome_stored(). */
void    outcome_for(OUTCOME *o, OUTCOME_MODE mode, const DECISION *d);

/* outcome_stored - after quarantine_store(): id on success, else NULL
 * and err says why */
void    outcome_stored(OUTCOME *o, OUTCOME_MODE mode, const DECISION *d, const char *id,
                       const char *err);

/* outcome_held - after a quarantine that the milter turned into a hold
 * in Postfix's hold queue: status "held", why the reason given to Postfix */
void    outcome_held(OUTCOME *o, OUTCOME_MODE mode, const DECISION *d);

/* outcome_method_check - quarantine_method is store or hold; -1 with
 * why in err */
int     outcome_method_check(VBUF *err);

/* outcome_method - the quarantine method in force for mode: hold only in
 * milter mode; the other modes warn once (per process) and store */
int     outcome_method(OUTCOME_MODE mode);

/* outcome_relay_status - the log status of a relay: result is the exit
 * status of reinject_message() in pipe mode, the downstream's reply code
 * (0: none) in smtpd mode, 250 (or 0: none sent) in milter mode */
const char *outcome_relay_status(OUTCOME_MODE mode, int result);

/* outcome_keeps_message - the action needs the message bytes (to send
 * them on or store them), also past message_size_limit */
int     outcome_keeps_message(ACTION action);

#endif
