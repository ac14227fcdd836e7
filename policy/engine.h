/*
 * engine - the compiled rules, the secret and the counter store
 *
 * engine_load() reads policy_rules (and every table it names), the
 * secret when a rule is signed_address, and checks policy_rate_db and
 * policy_store_fail_action when a rule is rate; any error refuses the
 * whole engine (a daemon keeps the one it has). engine_decide() answers
 * one request, engine_changed() tells when a file it read has changed.
 */
#ifndef POSTSIFT_POLICY_ENGINE_H
#define POSTSIFT_POLICY_ENGINE_H

#include <sys/types.h>
#include <time.h>

#include "lib/vbuf.h"
#include "policy/command.h"
#include "policy/request.h"
#include "policy/rules.h"
#include "policy/sigaddr.h"
#include "policy/store.h"

typedef struct ENGINE_FILE {
    char   *path;
    dev_t   dev;
    ino_t   ino;
    off_t   size;
    struct timespec mtime;
} ENGINE_FILE;

typedef struct ENGINE {
    RULES  *rules;
    SIGKEY *key;                        /* NULL: no signed_address rule */
    STORE  *store;                      /* NULL: no rate rule */
    char   *fail_action;                /* policy_store_fail_action */
    COMMAND_CACHE *cmd_cache;           /* NULL: no command rule */
    ENGINE_FILE *files;                 /* what engine_changed() watches */
    int     nfiles;
} ENGINE;

 /*
  * One decision, for the answer and the log line.
  */
typedef struct DECISION {
    const RULE *rule;                   /* the rule that answered; NULL: none */
    VBUF   *action;                     /* the answer ("DUNNO" when none) */
    VBUF   *matched;                    /* attr=value of the rule's conditions */
    VBUF   *detail;                     /* why a check refused, a store error */
    VBUF   *scratch;
} DECISION;

ENGINE *engine_load(VBUF *err);
void    engine_free(ENGINE *eng);
int     engine_changed(const ENGINE *eng);

void    engine_decision_init(DECISION *d);
void    engine_decision_free(DECISION *d);

/* engine_decide - the answer to req at time now */
void    engine_decide(ENGINE *eng, const REQUEST *req, time_t now, DECISION *d);

/* engine_describe - "N rules, ..." for the log */
void    engine_describe(const ENGINE *eng, VBUF *out);

#endif
