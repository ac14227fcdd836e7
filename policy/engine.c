/*
 * engine - the compiled rules, the secret and the counter store (engine.h)
 */
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/params.h"
#include "lib/vbuf.h"
#include "policy/action.h"
#include "policy/attr.h"
#include "policy/command.h"
#include "policy/engine.h"
#include "policy/rate.h"
#include "policy/rules.h"
#include "policy/sigaddr.h"
#include "policy/store.h"

/* engine_watch - remember a file's identity for engine_changed() */
static void engine_watch(ENGINE *eng, const char *path)
{
    ENGINE_FILE *f;
    struct stat st;

    eng->files = myrealloc(eng->files, (size_t)(eng->nfiles + 1) * sizeof(ENGINE_FILE));
    f = &eng->files[eng->nfiles++];
    memset(f, 0, sizeof(*f));
    f->path = mystrdup(path);
    if (stat(path, &st) == 0) {
        f->dev = st.st_dev;
        f->ino = st.st_ino;
        f->size = st.st_size;
        f->mtime = st.st_mtim;
    }
}

/* engine_changed - see engine.h */
int     engine_changed(const ENGINE *eng)
{
    struct stat st;
    int     i;

    for (i = 0; i < eng->nfiles; i++) {
        const ENGINE_FILE *f = &eng->files[i];

        if (stat(f->path, &st) < 0)
            continue;                   /* gone: keep what we have */
        if (st.st_dev != f->dev || st.st_ino != f->ino || st.st_size != f->size
            || st.st_mtim.tv_sec != f->mtime.tv_sec || st.st_mtim.tv_nsec != f->mtime.tv_nsec)
            return 1;
    }
    return 0;
}

/* engine_free - release */
void    engine_free(ENGINE *eng)
{
    int     i;

    if (eng == NULL)
        return;
    rules_free(eng->rules);
    sigaddr_key_free(eng->key);
    store_free(eng->store);
    myfree(eng->fail_action);
    command_cache_free(eng->cmd_cache);
    for (i = 0; i < eng->nfiles; i++)
        myfree(eng->files[i].path);
    myfree(eng->files);
    myfree(eng);
}

/* engine_watch_tables - every table file the rules read */
static void engine_watch_tables(ENGINE *eng)
{
    int     i, j;

    for (i = 0; i < eng->rules->count; i++)
        for (j = 0; j < eng->rules->rules[i].ncond; j++)
            if (eng->rules->rules[i].conds[j].file)
                engine_watch(eng, eng->rules->rules[i].conds[j].file);
}

/* engine_load_rate - the store and the fail action of rate rules */
static int engine_load_rate(ENGINE *eng, VBUF *err)
{
    VBUF   *fail = vbuf_alloc(ACTION_MAX_TEXT + 64), *why = vbuf_alloc(1024);
    int     status = -1;

    if (action_parse(var_policy_store_fail_action, fail, why) < 0)
        vbuf_sprintf(err, "policy_store_fail_action: %s", vbuf_str(why));
    else if ((eng->store = store_create(var_policy_rate_db, err)) != NULL) {
        eng->fail_action = mystrdup(vbuf_str(fail));
        /* a store that fails now may work later: warn, do not refuse */
        if (store_try(eng->store, why) < 0)
            msg_warn("%s; rate rules answer %s until it works", vbuf_str(why), eng->fail_action);
        status = 0;
    }
    vbuf_free(fail);
    vbuf_free(why);
    return status;
}

/* engine_load - see engine.h */
ENGINE *engine_load(VBUF *err)
{
    ENGINE *eng;

    if (var_policy_rules[0] != '/' || (var_policy_secret_file[0] != '/')) {
        vbuf_sprintf(err, "policy_rules and policy_secret_file must be absolute paths");
        return NULL;
    }
    eng = mycalloc(1, sizeof(*eng));
    if ((eng->rules = rules_load(var_policy_rules, err)) == NULL) {
        engine_free(eng);
        return NULL;
    }
    engine_watch(eng, var_policy_rules);
    engine_watch_tables(eng);
    if (eng->rules->uses_signed) {
        if ((eng->key = sigaddr_key_load(var_policy_secret_file, err)) == NULL) {
            engine_free(eng);
            return NULL;
        }
        engine_watch(eng, var_policy_secret_file);
    }
    if (eng->rules->uses_command)
        eng->cmd_cache = command_cache_create();
    if (eng->rules->uses_rate && engine_load_rate(eng, err) < 0) {
        engine_free(eng);
        return NULL;
    }
    return eng;
}

/* engine_describe - see engine.h */
void    engine_describe(const ENGINE *eng, VBUF *out)
{
    vbuf_sprintf(out, "%d rules from %s", eng->rules->count, eng->rules->path);
    if (eng->key)
        vbuf_sprintf_append(out, ", secret from %s", var_policy_secret_file);
    if (eng->store)
        vbuf_sprintf_append(out, ", counters in %s:%s", eng->store->ops->name, eng->store->where);
}

/* engine_decision_init - empty buffers */
void    engine_decision_init(DECISION *d)
{
    d->rule = NULL;
    d->action = vbuf_alloc(ACTION_MAX_TEXT + 128);
    d->matched = vbuf_alloc(4 * REQUEST_MAX_VALUE);
    d->detail = vbuf_alloc(1024);
    d->scratch = vbuf_alloc(REQUEST_MAX_VALUE + 64);
}

/* engine_decision_free - release */
void    engine_decision_free(DECISION *d)
{
    vbuf_free(d->action);
    vbuf_free(d->matched);
    vbuf_free(d->detail);
    vbuf_free(d->scratch);
}

/* engine_matched - "attr=value" for each attribute the rule looked at */
static void engine_matched(const RULE *rule, const REQUEST *req, const char *extra, DECISION *d)
{
    int     i, j;

    vbuf_reset(d->matched);
    for (i = 0; i <= rule->ncond; i++) {
        const char *attr = i < rule->ncond ? rule->conds[i].attr : extra;

        if (attr == NULL)
            continue;
        for (j = 0; j < i && strcmp(rule->conds[j].attr, attr) != 0; j++)
             /* void */ ;
        if (j < i)
            continue;                   /* named twice */
        if (vbuf_len(d->matched))
            vbuf_strcat(d->matched, ", ");
        vbuf_sprintf_append(d->matched, "%s=", attr);
        vbuf_quote_append(d->matched, attr_value(req, attr, d->scratch));
    }
}

/* engine_matched_more - a command rule's arguments, after its conditions */
static void engine_matched_more(const RULE *rule, const REQUEST *req, DECISION *d)
{
    int     i, j, seen;

    for (i = 0; i < rule->cmd_nattr; i++) {
        const char *attr = rule->cmd_attrs[i];

        for (seen = 0, j = 0; j < rule->ncond && !seen; j++)
            seen = strcmp(rule->conds[j].attr, attr) == 0;
        for (j = 0; j < i && !seen; j++)
            seen = strcmp(rule->cmd_attrs[j], attr) == 0;
        if (seen)
            continue;
        if (vbuf_len(d->matched))
            vbuf_strcat(d->matched, ", ");
        vbuf_sprintf_append(d->matched, "%s=", attr);
        vbuf_quote_append(d->matched, attr_value(req, attr, d->scratch));
    }
}

/* engine_signed - a signed_address rule: 1 when it refused (the answer
 * is in d), 0 to go on */
static int engine_signed(ENGINE *eng, const RULE *rule, const REQUEST *req, time_t now,
                         DECISION *d)
{
    const char *rcpt = request_get(req, "recipient");
    int     status;

    if (rcpt == NULL || *rcpt == 0)
        return 0;                       /* not a recipient check */
    status = sigaddr_check(eng->key, rcpt, now, d->detail);
    switch (status) {
    case SIGADDR_EXPIRED:
        vbuf_strcpy(d->action, "REJECT 5.1.1 address expired");
        return 1;
    case SIGADDR_BAD:
        vbuf_strcpy(d->action, "REJECT 5.1.1 address signature is not valid");
        return 1;
    case SIGADDR_UNSIGNED:
        if (!rule->required)
            return 0;
        vbuf_strcpy(d->action, "REJECT 5.1.1 address needs a valid signature");
        return 1;
    default:
        return 0;
    }
}

/* engine_rate - a rate rule: 1 when it answered (over the limit, or the
 * store failed), 0 to go on. Counted once per message: in state RCPT
 * for the first recipient (recipient_count 0); later recipients of the
 * message are checked against the count without adding to it; other
 * states are not counted. */
static int engine_rate(ENGINE *eng, const RULE *rule, const REQUEST *req, time_t now,
                       DECISION *d)
{
    const char *state = request_get(req, "protocol_state");
    const char *count = request_get(req, "recipient_count");
    const char *value = attr_value(req, rule->rate_attr, d->scratch);
    VBUF   *key;
    RATE_QUERY q;
    RATE_ANSWER a;
    int     status;

    a.over = 0;
    if (*value == 0 || state == NULL || strcasecmp(state, "RCPT") != 0)
        return 0;
    key = vbuf_alloc(1024);
    rate_key(key, rule->name, value);
    q.key = vbuf_str(key);
    q.window = rule->rate_window;
    q.limit = rule->rate_limit;
    q.now = now;
    q.count = count == NULL || *count == 0 || strcmp(count, "0") == 0;
    if ((status = store_hit(eng->store, &q, &a, d->detail)) < 0) {
        msg_warn("rule %s: %s; answering %s", rule->name, vbuf_str(d->detail), eng->fail_action);
        vbuf_strcpy(d->action, eng->fail_action);
    } else if (a.over) {
        vbuf_sprintf(d->detail, "rate %.1f of %ld per %lds", a.estimate, q.limit, q.window);
        vbuf_strcpy(d->action, rule->answer);
    }
    vbuf_free(key);
    return status < 0 || a.over;
}

/* engine_command - a command rule: 1 when it answered (refused, or the
 * program failed), 0 to go on */
static int engine_command(ENGINE *eng, const RULE *rule, const REQUEST *req, time_t now,
                          DECISION *d)
{
    switch (command_decide(eng->cmd_cache, rule->cmd_path, rule->cmd_attrs, rule->cmd_nattr,
                           req, now, d->action, d->detail)) {
    case COMMAND_PASS:
        return 0;
    case COMMAND_REJECT:
        return 1;
    default:
        msg_warn("rule %s: %s; answering %s", rule->name, vbuf_str(d->detail), ACTION_TEMPFAIL);
        vbuf_strcpy(d->action, ACTION_TEMPFAIL);
        return 1;
    }
}

/* engine_decide - see engine.h */
void    engine_decide(ENGINE *eng, const REQUEST *req, time_t now, DECISION *d)
{
    const RULE *rule;
    int     i, answered = 0;

    d->rule = NULL;
    vbuf_strcpy(d->action, "DUNNO");
    vbuf_reset(d->matched);
    vbuf_reset(d->detail);
    for (i = 0; i < eng->rules->count && !answered; i++) {
        rule = &eng->rules->rules[i];
        if (!rules_match(rule, req, d->scratch))
            continue;
        switch (rule->kind) {
        case RULE_ANSWER:
            vbuf_strcpy(d->action, rule->answer);
            answered = 1;
            break;
        case RULE_SIGNED:
            answered = engine_signed(eng, rule, req, now, d);
            break;
        case RULE_RATE:
            answered = engine_rate(eng, rule, req, now, d);
            break;
        case RULE_COMMAND:
            answered = engine_command(eng, rule, req, now, d);
            break;
        }
        if (answered) {
            d->rule = rule;
            engine_matched(rule, req, rule->kind == RULE_SIGNED ? "recipient"
                           : rule->kind == RULE_RATE ? rule->rate_attr : NULL, d);
            if (rule->kind == RULE_COMMAND)
                engine_matched_more(rule, req, d);
        } else {
            vbuf_reset(d->detail);
        }
    }
}
