/*
 * rules - every rule of the linter, once, in ck_rules[]: its id, the
 * function that checks it, when it fires (the man page), what -v says it
 * checks, the harm and the fix. The finding lines, the -v lines and the
 * man page section (ck_man, "postsift-check --man") all come from here.
 *
 * The texts may hold <NAME>: the value the check passes for NAME (the
 * service, the transport, a limit) in a finding, NAME in italics in the
 * man page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"

/* rl_render - text with each <NAME> replaced by its value in vars; for
   the man page (man set), roff-escaped with NAME in italics */
static const char *rl_render(CK *ck, const char *text, const char *const *vars, int man)
{
    VBUF   *vb = vbuf_alloc(VBUF_DEFAULT_CAP);
    const char *cp, *end, *s;
    size_t  len;
    int     i;

    for (cp = text; *cp; cp++) {
        if (*cp == '<' && (end = strchr(cp, '>')) != NULL
            && (len = (size_t)(end - cp - 1)) > 0
            && strspn(cp + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == len) {
            for (i = 0, s = NULL; vars && vars[i] && vars[i + 1] && s == NULL; i += 2)
                if (strlen(vars[i]) == len && strncmp(vars[i], cp + 1, len) == 0)
                    s = vars[i + 1];
            if (man)
                vbuf_sprintf_append(vb, "\\fI%.*s\\fR", (int)len, cp + 1);
            else
                vbuf_sprintf_append(vb, "%s", s ? s : "?");
            cp = end;
        } else if (man && *cp == '\\') {
            vbuf_strcat(vb, "\\e");
        } else if (man && *cp == '-') {
            vbuf_strcat(vb, "\\-");
        } else {
            vbuf_addch(vb, *cp);
        }
    }
    s = ck_strn(ck, vbuf_str(vb), vbuf_len(vb));
    vbuf_free(vb);
    return s;
}

/* ck_explain - with -v, what the rule looks at here */
void    ck_explain(CK *ck, const CK_RULE *rule, const char *where, const char *const *vars)
{
    ck_say(ck, "check %s (%s): %s", rule->id, where, rl_render(ck, rule->explain, vars, 0));
}

/* ck_pass - with -v, the rule found nothing here */
void    ck_pass(CK *ck, const CK_RULE *rule, const char *where, const char *detail)
{
    ck_say(ck, "ok %s (%s)%s%s", rule->id, where, detail ? ": " : "", detail ? detail : "");
}

/* ck_finding - one line per misconfiguration (once per rule and place) */
void    ck_finding(CK *ck, const CK_RULE *rule, const char *what, const char *where,
                   const char *const *vars)
{
    const char *key = ck_fmt(ck, "%s|%s", rule->id, where);

    if (ck_list_has(&ck->seen, key))
        return;
    ck_list_add(ck, &ck->seen, key);
    ck->nfind++;
    fprintf(ck->out, "%s: %s: %s (%s) -- %s; fix: %s\n", CK_PROG, rule->id, what, where,
            rl_render(ck, rule->harm, vars, 0), rl_render(ck, rule->fix, vars, 0));
}

/* rl_port - the port of an inet service name ("127.0.0.1:10026") */
static const char *rl_port(const CK_SERVICE *s)
{
    const char *colon = strrchr(s->svc, ':');

    return colon ? colon + 1 : s->svc;
}

/* rl_smtpd - a reinjection service that is an smtpd (else
   reinject-missing reports it and the other rules skip it) */
static int rl_smtpd(const CK_REINJ *r)
{
    return strcmp(ck_daemon(r->svc), "smtpd") == 0;
}

/* rl_sv_name - a parameter as the service called name sees it */
static const char *rl_sv_name(CK *ck, const char *name, const char *param)
{
    CK_SERVICE tmp;

    memset(&tmp, 0, sizeof(tmp));
    tmp.name = name;
    return ck_sv(ck, &tmp, param);
}

/* rl_pickup - the pickup service, when filters reinject with sendmail */
static const CK_SERVICE *rl_pickup(CK *ck)
{
    const CK_SERVICE *pk = NULL;
    size_t  i;

    if (ck->sendmail.n == 0)
        return NULL;
    for (i = 0; i < ck->services.n; i++)
        if (strcmp(ck_daemon(ck->services.v[i]), "pickup") == 0)
            pk = ck->services.v[i];
    return pk;
}

/* rl_strcmp - qsort of strings */
static int rl_strcmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* rl_sendmail_from - the filters that reinject with sendmail, sorted */
static const char *rl_sendmail_from(CK *ck)
{
    CK_LIST copy = {0};
    size_t  i;

    for (i = 0; i < ck->sendmail.n; i++)
        ck_list_add(ck, &copy, ck->sendmail.v[i]);
    qsort(copy.v, copy.n, sizeof(*copy.v), rl_strcmp);
    return ck_join(ck, &copy, ", ");
}

/* rl_hb_checks - "header_checks = ..., body_checks = ..." as cleanup
   service cln sees them, "" when none is set */
static const char *rl_hb_checks(CK *ck, const char *cln)
{
    static const char *const names[] = {
        "header_checks", "mime_header_checks", "nested_header_checks", "body_checks", NULL,
    };
    CK_LIST set = {0};
    const char *v;
    int     i;

    for (i = 0; names[i]; i++)
        if (*(v = rl_sv_name(ck, cln, names[i])))
            ck_list_add(ck, &set, ck_fmt(ck, "%s = %s", names[i], v));
    return ck_join(ck, &set, ", ");
}

/* ---------------------------------------------------------------- reinjection smtpd */

/* rl_reinject_content_filter - filtered mail gets a content filter again */
static void rl_reinject_content_filter(CK *ck, const CK_RULE *rule)
{
    size_t  i, j;

    for (i = 0; i < ck->reinjs.n; i++) {
        const CK_REINJ *r = ck->reinjs.v[i];
        const char *cf = ck_sv(ck, r->svc, "content_filter");
        const char *t = ck_strn(ck, cf, strcspn(cf, ":"));
        int     loop = *cf && r->after_queue;

        if (!rl_smtpd(r))
            continue;
        ck_explain(ck, rule, r->svc->name, CK_VARS("VALUE", cf));
        for (j = 0; *cf && j < ck->transports.n; j++)
            loop |= strcmp(((CK_TRANSPORT *) ck->transports.v[j])->name, t) == 0;
        if (loop)
            ck_finding(ck, rule, ck_fmt(ck, "content_filter = %s on the smtpd that the filter "
                                        "reinjects to", cf),
                       ck_sv_where(ck, r->svc, "content_filter"),
                       CK_VARS("SERVICE", r->svc->name));
        else
            ck_pass(ck, rule, r->svc->name, NULL);
    }
}

/* rl_reinject_proxy_filter - filtered mail goes to a proxy filter again */
static void rl_reinject_proxy_filter(CK *ck, const CK_RULE *rule)
{
    size_t  i;

    for (i = 0; i < ck->reinjs.n; i++) {
        const CK_REINJ *r = ck->reinjs.v[i];
        const char *pf = ck_sv(ck, r->svc, "smtpd_proxy_filter");

        if (!rl_smtpd(r))
            continue;
        ck_explain(ck, rule, r->svc->name, CK_VARS("VALUE", pf));
        if (*pf)
            ck_finding(ck, rule, ck_fmt(ck, "smtpd_proxy_filter = %s on the smtpd that the "
                                        "filter reinjects to", pf),
                       ck_sv_where(ck, r->svc, "smtpd_proxy_filter"),
                       CK_VARS("SERVICE", r->svc->name));
        else
            ck_pass(ck, rule, r->svc->name, NULL);
    }
}

/* rl_reinject_filter_restriction - a restriction that can say FILTER */
static void rl_reinject_filter_restriction(CK *ck, const CK_RULE *rule)
{
    const CK_LIST *f;
    const char *why;
    size_t  i, j;
    int     found;

    for (i = 0; i < ck->reinjs.n; i++) {
        const CK_REINJ *r = ck->reinjs.v[i];
        CK_LIST items = {0};

        if (!rl_smtpd(r) || !r->after_queue)
            continue;
        ck_explain(ck, rule, r->svc->name, CK_NOVARS);
        ck_restrictions(ck, r->svc, &items);
        for (j = 0, found = 0; j < items.n; j++) {
            const CK_ITEM *it = items.v[j];

            if (strcmp(it->restriction, "check_policy_service") == 0)
                why = "a policy service can return FILTER";
            else if ((f = ck_table_filters(ck, it->table)) == NULL)
                why = "it cannot be read and may return FILTER";
            else if (f->n > 0)
                why = ck_fmt(ck, "it returns FILTER %s", (const char *)f->v[0]);
            else
                why = NULL;
            if (why == NULL) {
                ck_say(ck, "%s: %s %s %s has no FILTER", r->svc->name, it->param,
                       it->restriction, it->table);
                continue;
            }
            found = 1;
            ck_finding(ck, rule, ck_fmt(ck, "%s has %s %s: %s", it->param, it->restriction,
                                        it->table, why),
                       ck_sv_where(ck, r->svc, it->param),
                       CK_VARS("SERVICE", r->svc->name, "PARAM", it->param));
        }
        if (!found)
            ck_pass(ck, rule, r->svc->name, NULL);
    }
}

/* rl_reinject_header_body_checks - cleanup's checks run twice */
static void rl_reinject_header_body_checks(CK *ck, const CK_RULE *rule)
{
    const CK_SERVICE *pk;
    const char *ro, *hb;
    size_t  i;

    for (i = 0; i < ck->reinjs.n; i++) {
        const CK_REINJ *r = ck->reinjs.v[i];

        if (!rl_smtpd(r) || !r->after_queue)
            continue;
        ro = ck_sv(ck, r->svc, "receive_override_options");
        hb = rl_hb_checks(ck, ck_fmt(ck, "%s/unix", ck_sv(ck, r->svc, "cleanup_service_name")));
        ck_explain(ck, rule, r->svc->name, CK_VARS("CHECKS", *hb ? hb : "none", "VALUE", ro));
        if (*hb && !ck_has_opt(ro, "no_header_body_checks"))
            ck_finding(ck, rule, ck_fmt(ck, "%s run again on filtered mail: "
                                        "receive_override_options lacks no_header_body_checks",
                                        hb), ck_sv_where(ck, r->svc, "receive_override_options"),
                       CK_VARS("SERVICE", r->svc->name));
        else
            ck_pass(ck, rule, r->svc->name, NULL);
    }
    if ((pk = rl_pickup(ck)) == NULL)
        return;
    ro = ck_sv(ck, pk, "receive_override_options");
    hb = rl_hb_checks(ck, "cleanup/unix");
    ck_explain(ck, rule, pk->name, CK_VARS("CHECKS", *hb ? hb : "none", "VALUE", ro));
    if (*hb && !ck_has_opt(ro, "no_header_body_checks"))
        ck_finding(ck, rule, ck_fmt(ck, "%s run again on mail that %s reinjects with sendmail",
                                    hb, rl_sendmail_from(ck)),
                   ck_sv_where(ck, pk, "receive_override_options"),
                   CK_VARS("SERVICE", pk->name));
    else
        ck_pass(ck, rule, pk->name, NULL);
}

/* rl_reinject_milters - milters run twice */
static void rl_reinject_milters(CK *ck, const CK_RULE *rule)
{
    const CK_SERVICE *pk;
    const char *ro, *ml;
    size_t  i;

    for (i = 0; i < ck->reinjs.n; i++) {
        const CK_REINJ *r = ck->reinjs.v[i];

        if (!rl_smtpd(r) || !r->after_queue)
            continue;
        ro = ck_sv(ck, r->svc, "receive_override_options");
        ml = ck_sv(ck, r->svc, "smtpd_milters");
        ck_explain(ck, rule, r->svc->name, CK_VARS("PARAM", "smtpd_milters", "VALUE", ml,
                                                   "OPTIONS", ro));
        if (*ml && !ck_has_opt(ro, "no_milters"))
            ck_finding(ck, rule, ck_fmt(ck, "smtpd_milters = %s run again on filtered mail: "
                                        "receive_override_options lacks no_milters", ml),
                       ck_sv_where(ck, r->svc, "receive_override_options"),
                       CK_VARS("SERVICE", r->svc->name));
        else
            ck_pass(ck, rule, r->svc->name, NULL);
    }
    if ((pk = rl_pickup(ck)) == NULL)
        return;
    ro = ck_sv(ck, pk, "receive_override_options");
    ml = ck_sv(ck, pk, "non_smtpd_milters");
    ck_explain(ck, rule, pk->name, CK_VARS("PARAM", "non_smtpd_milters", "VALUE", ml,
                                           "OPTIONS", ro));
    if (*ml && !ck_has_opt(ro, "no_milters"))
        ck_finding(ck, rule, ck_fmt(ck, "non_smtpd_milters = %s run again on mail that %s "
                                    "reinjects with sendmail", ml, rl_sendmail_from(ck)),
                   ck_sv_where(ck, pk, "non_smtpd_milters"), CK_VARS("SERVICE", pk->name));
    else
        ck_pass(ck, rule, pk->name, NULL);
}

/* rl_reinject_receive_override - recipients looked up again */
static void rl_reinject_receive_override(CK *ck, const CK_RULE *rule)
{
    size_t  i;

    for (i = 0; i < ck->reinjs.n; i++) {
        const CK_REINJ *r = ck->reinjs.v[i];
        const char *ro = ck_sv(ck, r->svc, "receive_override_options");
        const char *want = r->after_queue
            ? "no_unknown_recipient_checks,no_header_body_checks,no_milters"
            : "no_unknown_recipient_checks";

        if (!rl_smtpd(r))
            continue;
        ck_explain(ck, rule, r->svc->name, CK_VARS("VALUE", ro));
        if (!ck_has_opt(ro, "no_unknown_recipient_checks"))
            ck_finding(ck, rule, ck_fmt(ck, "receive_override_options = '%s' lacks "
                                        "no_unknown_recipient_checks", ro),
                       ck_sv_where(ck, r->svc, "receive_override_options"),
                       CK_VARS("SERVICE", r->svc->name, "OPTIONS", want));
        else
            ck_pass(ck, rule, r->svc->name, NULL);
    }
}

/* rl_reinject_address_mappings - mappings never applied */
static void rl_reinject_address_mappings(CK *ck, const CK_RULE *rule)
{
    size_t  i;

    for (i = 0; i < ck->reinjs.n; i++) {
        const CK_REINJ *r = ck->reinjs.v[i];
        const char *ro = ck_sv(ck, r->svc, "receive_override_options");

        if (!rl_smtpd(r))
            continue;
        ck_explain(ck, rule, r->svc->name, CK_NOVARS);
        if (ck_has_opt(ro, "no_address_mappings") && !ck_mapped_before(ck))
            ck_finding(ck, rule, ck_fmt(ck, "receive_override_options = '%s' has "
                                        "no_address_mappings", ro),
                       ck_sv_where(ck, r->svc, "receive_override_options"),
                       CK_VARS("SERVICE", r->svc->name));
        else
            ck_pass(ck, rule, r->svc->name, NULL);
    }
}

/* rl_loopback_in - an authorized_xforward_hosts list covers 127.0.0.1
   (tables and negations: assumed yes) */
static int rl_loopback_in(CK *ck, const char *list)
{
    CK_LIST items = {0};
    size_t  i;

    ck_list_split(ck, &items, list);
    for (i = 0; i < items.n; i++) {
        const char *w = items.v[i], *colon = strchr(w, ':'), *slash = strchr(w, '/');

        if (colon && slash)
            continue;
        if (strncmp(w, "127.", 4) == 0 || strcmp(w, "0.0.0.0/0") == 0
            || strcmp(w, "localhost") == 0 || colon || *w == '!')
            return 1;
    }
    return 0;
}

/* rl_reinject_xforward - XFORWARD from the filter not allowed */
static void rl_reinject_xforward(CK *ck, const CK_RULE *rule)
{
    size_t  i;

    for (i = 0; i < ck->reinjs.n; i++) {
        const CK_REINJ *r = ck->reinjs.v[i];
        const char *xh = ck_sv(ck, r->svc, "smtpd_authorized_xforward_hosts");
        const char *from;

        if (!rl_smtpd(r) || r->xforward.n == 0)
            continue;
        from = ck_join(ck, &r->xforward, ", ");
        ck_explain(ck, rule, r->svc->name, CK_VARS("VALUE", xh, "FILTERS", from));
        if (rl_loopback_in(ck, xh))
            ck_pass(ck, rule, r->svc->name, NULL);
        else
            ck_finding(ck, rule, ck_fmt(ck, "smtpd_authorized_xforward_hosts = '%s' does not "
                                        "include 127.0.0.1, but %s sends XFORWARD", xh, from),
                       ck_sv_where(ck, r->svc, "smtpd_authorized_xforward_hosts"),
                       CK_VARS("SERVICE", r->svc->name));
    }
}

/* rl_reinject_process_limit - fewer smtpd processes than filters */
static void rl_reinject_process_limit(CK *ck, const CK_RULE *rule)
{
    size_t  i;

    for (i = 0; i < ck->reinjs.n; i++) {
        const CK_REINJ *r = ck->reinjs.v[i];
        long    rm = ck_maxproc(ck, r->svc);
        const char *fc = ck_show(ck, r->conc);

        if (!rl_smtpd(r))
            continue;
        ck_say(ck, "reinjection smtpd %s (%s), fed by %s", r->svc->name,
               r->after_queue ? "after-queue" : "before-queue", ck_join(ck, &r->from, ", "));
        ck_explain(ck, rule, r->svc->name, CK_VARS("LIMIT", ck_show(ck, rm), "CONCURRENCY", fc));
        if (rm < r->conc)
            ck_finding(ck, rule, ck_fmt(ck, "process limit %ld is below the %s filter processes "
                                        "that reinject into it (%s)", rm, fc,
                                        ck_join(ck, &r->from, ", ")),
                       ck_fmt(ck, "master.cf %s", r->svc->name),
                       CK_VARS("SERVICE", r->svc->name, "CONCURRENCY", fc));
        else
            ck_pass(ck, rule, r->svc->name, NULL);
    }
}

/* rl_reinject_missing - nothing, or not smtpd, where filters reinject */
static void rl_reinject_missing(CK *ck, const CK_RULE *rule)
{
    size_t  i;

    for (i = 0; i < ck->lost.n; i++) {
        const CK_LOST *l = ck->lost.v[i];

        ck_explain(ck, rule, l->what, CK_VARS("FILTERS", l->what, "PORT", l->port));
        ck_finding(ck, rule, ck_fmt(ck, "%s reinjects to %s, and master.cf has no service on "
                                    "port %s", l->what, l->target, l->port),
                   l->what, CK_VARS("PORT", l->port));
    }
    for (i = 0; i < ck->reinjs.n; i++) {
        const CK_REINJ *r = ck->reinjs.v[i];
        const char *from = ck_join(ck, &r->from, ", ");

        ck_explain(ck, rule, r->svc->name, CK_VARS("FILTERS", from, "PORT", rl_port(r->svc)));
        if (rl_smtpd(r))
            ck_pass(ck, rule, r->svc->name, NULL);
        else
            ck_finding(ck, rule, ck_fmt(ck, "the reinjection port is served by %s, not smtpd",
                                        ck_daemon(r->svc)),
                       ck_fmt(ck, "master.cf %s", r->svc->name),
                       CK_VARS("PORT", rl_port(r->svc)));
    }
}

/* ---------------------------------------------------------------- the ways in */

/* rl_fam_one - filter-address-mappings of one service */
static void rl_fam_one(CK *ck, const CK_RULE *rule, const CK_SERVICE *x, CK_LIST *done)
{
    const char *ro = ck_sv(ck, x, "receive_override_options");
    size_t  i;

    for (i = 0; i < ck->reinjs.n; i++)
        if (((CK_REINJ *) ck->reinjs.v[i])->svc == x)
            return;
    if (ck_list_has(done, x->name))
        return;
    ck_list_add(ck, done, x->name);
    ck_explain(ck, rule, x->name, CK_VARS("FILTER", ck_sv(ck, x, "content_filter"),
                                          "VALUE", ro));
    if (ck_has_opt(ro, "no_address_mappings"))
        ck_pass(ck, rule, x->name, NULL);
    else
        ck_finding(ck, rule, ck_fmt(ck, "content_filter is set, but receive_override_options "
                                    "= '%s' lacks no_address_mappings", ro),
                   ck_sv_where(ck, x, "receive_override_options"), CK_NOVARS);
}

/* rl_filter_address_mappings - an SMTP filter requested where the
   mappings are still done (FILTER_README's advanced design) */
static void rl_filter_address_mappings(CK *ck, const CK_RULE *rule)
{
    CK_LIST done = {0};
    size_t  i, j;

    for (i = 0; i < ck->requests.n; i++) {
        const CK_REQUEST *r = ck->requests.v[i];
        const CK_SERVICE *t = ck_service(ck, ck_fmt(ck, "%.*s/unix",
                                                    (int)strcspn(r->target, ":"), r->target));

        if (r->from_table || t == NULL
            || (strcmp(ck_daemon(t), "smtp") != 0 && strcmp(ck_daemon(t), "lmtp") != 0))
            continue;
        if (r->service) {
            rl_fam_one(ck, rule, r->service, &done);
            continue;
        }
        /* main.cf: every way in that does not override it */
        for (j = 0; j < ck->services.n; j++) {
            const CK_SERVICE *x = ck->services.v[j];
            const char *d = ck_daemon(x);

            if ((strcmp(d, "smtpd") == 0 || strcmp(d, "pickup") == 0 || strcmp(d, "qmqpd") == 0)
                && !ck_sv_own(ck, x, "content_filter") && *ck_sv(ck, x, "content_filter"))
                rl_fam_one(ck, rule, x, &done);
        }
    }
}

/* rl_global_filter_sendmail_loop - pickup filters what sendmail gives back */
static void rl_global_filter_sendmail_loop(CK *ck, const CK_RULE *rule)
{
    const CK_SERVICE *pk = rl_pickup(ck);
    const char *cf, *from;

    if (pk == NULL)
        return;
    cf = ck_sv(ck, pk, "content_filter");
    from = rl_sendmail_from(ck);
    ck_explain(ck, rule, pk->name, CK_VARS("FILTERS", from, "VALUE", cf));
    if (*cf)
        ck_finding(ck, rule, ck_fmt(ck, "content_filter = %s applies to pickup, and %s "
                                    "reinjects with sendmail", cf, from),
                   ck_sv_where(ck, pk, "content_filter"), CK_NOVARS);
    else
        ck_pass(ck, rule, pk->name, NULL);
}

/* ---------------------------------------------------------------- scan transport */

/* rl_scans - call fn for each smtp/lmtp filter transport */
static void rl_scans(CK *ck, const CK_RULE *rule,
                     void (*fn)(CK *, const CK_RULE *, const CK_TRANSPORT *))
{
    size_t  i;

    for (i = 0; i < ck->transports.n; i++) {
        const CK_TRANSPORT *t = ck->transports.v[i];

        if (t->svc && (strcmp(t->daemon, "smtp") == 0 || strcmp(t->daemon, "lmtp") == 0))
            fn(ck, rule, t);
    }
}

/* rl_scan_xforward_one - the scan transport sends XFORWARD */
static void rl_scan_xforward_one(CK *ck, const CK_RULE *rule, const CK_TRANSPORT *t)
{
    const char *param = ck_fmt(ck, "%s_send_xforward_command", t->daemon);
    const char *xf = ck_sv(ck, t->svc, param);

    ck_explain(ck, rule, t->svc->name, CK_VARS("PARAM", param));
    if (strcmp(xf, "yes") == 0)
        ck_pass(ck, rule, t->svc->name, NULL);
    else
        ck_finding(ck, rule, ck_fmt(ck, "%s = %s", param, xf), ck_sv_where(ck, t->svc, param),
                   CK_VARS("PARAM", param, "TRANSPORT", t->name));
}

/* rl_scan_xforward - rule scan-xforward */
static void rl_scan_xforward(CK *ck, const CK_RULE *rule)
{
    rl_scans(ck, rule, rl_scan_xforward_one);
}

/* rl_scan_concurrency_one - more deliveries than filter processes */
static void rl_scan_concurrency_one(CK *ck, const CK_RULE *rule, const CK_TRANSPORT *t)
{
    size_t  i;

    for (i = 0; i < t->hops.n; i++) {
        const CK_FILTER *f = t->hops.v[i];
        const char *fc = ck_show(ck, f->conc);

        ck_explain(ck, rule, t->svc->name, CK_VARS("CONCURRENCY", ck_show(ck, t->conc),
                                                   "FILTER", f->desc, "LIMIT", fc));
        if (t->conc > f->conc)
            ck_finding(ck, rule, ck_fmt(ck, "concurrency %s (process limit %s, "
                                        "%s_destination_concurrency_limit %s) is above the "
                                        "filter's %s (%s)", ck_show(ck, t->conc),
                                        ck_show(ck, ck_maxproc(ck, t->svc)), t->name,
                                        ck_show(ck, ck_dest_limit(ck, t->name, "concurrency")),
                                        fc, f->desc),
                       ck_fmt(ck, "master.cf %s", t->svc->name),
                       CK_VARS("TRANSPORT", t->name, "LIMIT", fc));
        else
            ck_pass(ck, rule, t->svc->name, NULL);
    }
}

/* rl_scan_concurrency - rule scan-concurrency */
static void rl_scan_concurrency(CK *ck, const CK_RULE *rule)
{
    rl_scans(ck, rule, rl_scan_concurrency_one);
}

/* rl_scan_ddt_one - Postfix gives up before the filter answers */
static void rl_scan_ddt_one(CK *ck, const CK_RULE *rule, const CK_TRANSPORT *t)
{
    const char *param = ck_fmt(ck, "%s_data_done_timeout", t->daemon);
    const char *dd = ck_sv(ck, t->svc, param), *fd;
    size_t  i;

    for (i = 0; i < t->hops.n; i++) {
        const CK_FILTER *f = t->hops.v[i];

        fd = f->set ? f->set->smtpd_data_done_timeout : "";
        ck_explain(ck, rule, t->svc->name, CK_VARS("PARAM", param, "VALUE", dd,
                                                   "FILTER_TIMEOUT", *fd ? fd : "unknown"));
        if (*fd && ck_seconds(dd) < ck_seconds(fd) + CK_MARGIN)
            ck_finding(ck, rule, ck_fmt(ck, "%s = %s is shorter than the filter's "
                                        "smtpd_data_done_timeout = %s plus %ds", param, dd,
                                        fd, CK_MARGIN),
                       ck_sv_where(ck, t->svc, param),
                       CK_VARS("PARAM", param, "TRANSPORT", t->name,
                               "SECONDS", ck_fmt(ck, "%ld", ck_seconds(fd) * 2)));
        else
            ck_pass(ck, rule, t->svc->name, NULL);
    }
}

/* rl_scan_data_done_timeout - rule scan-data-done-timeout */
static void rl_scan_data_done_timeout(CK *ck, const CK_RULE *rule)
{
    rl_scans(ck, rule, rl_scan_ddt_one);
}

/* ---------------------------------------------------------------- before the queue */

/* rl_proxy_timeout - the client gets 451 before the filter answers */
static void rl_proxy_timeout(CK *ck, const CK_RULE *rule)
{
    size_t  i;

    for (i = 0; i < ck->proxies.n; i++) {
        const CK_PROXY *p = ck->proxies.v[i];
        const char *pt = ck_sv(ck, p->svc, "smtpd_proxy_timeout");
        const char *fd = p->filter->set ? p->filter->set->smtpd_data_done_timeout : "";

        ck_explain(ck, rule, p->svc->name, CK_VARS("VALUE", pt,
                                                   "FILTER_TIMEOUT", *fd ? fd : "unknown"));
        if (*fd && ck_seconds(pt) < ck_seconds(fd) + CK_MARGIN)
            ck_finding(ck, rule, ck_fmt(ck, "smtpd_proxy_timeout = %s is shorter than the "
                                        "filter's smtpd_data_done_timeout = %s plus %ds",
                                        pt, fd, CK_MARGIN),
                       ck_sv_where(ck, p->svc, "smtpd_proxy_timeout"),
                       CK_VARS("SERVICE", p->svc->name));
        else
            ck_pass(ck, rule, p->svc->name, NULL);
    }
}

/* rl_proxy_filter_action - FILTER that smtpd ignores */
static void rl_proxy_filter_action(CK *ck, const CK_RULE *rule)
{
    const CK_LIST *f;
    size_t  i, j;
    int     found;

    for (i = 0; i < ck->proxies.n; i++) {
        const CK_PROXY *p = ck->proxies.v[i];
        CK_LIST items = {0};

        ck_explain(ck, rule, p->svc->name, CK_NOVARS);
        ck_restrictions(ck, p->svc, &items);
        for (j = 0, found = 0; j < items.n; j++) {
            const CK_ITEM *it = items.v[j];

            f = NULL;
            if (strcmp(it->restriction, "check_policy_service") == 0
                || (f = ck_table_filters(ck, it->table)) == NULL) {
                ck_say(ck, "%s: %s %s %s %s: not checked", p->svc->name, it->param,
                       it->restriction, it->table, f == NULL && strcmp(it->restriction,
                       "check_policy_service") == 0 ? "could return FILTER" : "cannot be read");
                continue;
            }
            if (f->n == 0)
                continue;
            found = 1;
            ck_finding(ck, rule, ck_fmt(ck, "%s %s in %s returns FILTER %s, but %s uses "
                                        "smtpd_proxy_filter", it->restriction, it->table,
                                        it->param, (const char *)f->v[0], p->svc->name),
                       ck_fmt(ck, "%s, %s", p->svc->name, it->table), CK_NOVARS);
        }
        if (!found)
            ck_pass(ck, rule, p->svc->name, NULL);
    }
}

/* ---------------------------------------------------------------- pipe transport */

/* rl_pipes - call fn for each pipe(8) filter transport */
static void rl_pipes(CK *ck, const CK_RULE *rule,
                     void (*fn)(CK *, const CK_RULE *, const CK_TRANSPORT *))
{
    size_t  i;

    for (i = 0; i < ck->transports.n; i++) {
        const CK_TRANSPORT *t = ck->transports.v[i];

        if (t->svc && strcmp(t->daemon, "pipe") == 0)
            fn(ck, rule, t);
    }
}

/* rl_null_sender_one - null_sender= empty */
static void rl_null_sender_one(CK *ck, const CK_RULE *rule, const CK_TRANSPORT *t)
{
    const char *ns = ck_attr(t->svc, "null_sender");
    const char *where = ck_fmt(ck, "master.cf %s", t->svc->name);

    ck_explain(ck, rule, t->svc->name, CK_NOVARS);
    if (ns && *ns == 0)
        ck_pass(ck, rule, t->svc->name, NULL);
    else if (ns)
        ck_finding(ck, rule, ck_fmt(ck, "null_sender=%s: the null sender is passed as '%s'",
                                    ns, ns), where, CK_VARS("TRANSPORT", t->name));
    else
        ck_finding(ck, rule, "no null_sender= attribute: the null sender is passed as "
                   "MAILER-DAEMON", where, CK_VARS("TRANSPORT", t->name));
}

/* rl_pipe_null_sender - rule pipe-null-sender */
static void rl_pipe_null_sender(CK *ck, const CK_RULE *rule)
{
    rl_pipes(ck, rule, rl_null_sender_one);
}

/* rl_sendmail_t - argv runs sendmail with an option word ending in t */
static int rl_sendmail_t(CK *ck, const CK_SERVICE *svc)
{
    CK_LIST argv = {0};
    size_t  i, len;
    int     after = 0;

    ck_argv(ck, svc, &argv);
    for (i = 0; i < argv.n; i++) {
        const char *w = argv.v[i];

        if (strpbrk(w, "|;&"))
            after = 0;
        if (after && w[0] == '-' && (len = strlen(w)) >= 2 && w[len - 1] == 't'
            && strspn(w + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") == len - 1)
            return 1;
        if (strstr(w, "sendmail") && !strpbrk(strstr(w, "sendmail"), "|;&"))
            after = 1;
    }
    return 0;
}

/* rl_sendmail_t_one - recipients from the headers */
static void rl_sendmail_t_one(CK *ck, const CK_RULE *rule, const CK_TRANSPORT *t)
{
    ck_explain(ck, rule, t->svc->name, CK_NOVARS);
    if (rl_sendmail_t(ck, t->svc))
        ck_finding(ck, rule, "argv runs sendmail -t: recipients are taken from the message "
                   "headers", ck_fmt(ck, "master.cf %s", t->svc->name), CK_NOVARS);
    else
        ck_pass(ck, rule, t->svc->name, NULL);
}

/* rl_pipe_sendmail_t - rule pipe-sendmail-t */
static void rl_pipe_sendmail_t(CK *ck, const CK_RULE *rule)
{
    rl_pipes(ck, rule, rl_sendmail_t_one);
}

/* rl_recipient_limit_one - flags D or O with more than one recipient */
static void rl_recipient_limit_one(CK *ck, const CK_RULE *rule, const CK_TRANSPORT *t)
{
    const char *flags = ck_attr(t->svc, "flags");
    long    rl = ck_dest_limit(ck, t->name, "recipient");

    if (flags == NULL)
        flags = "";
    ck_explain(ck, rule, t->svc->name, CK_VARS("TRANSPORT", t->name, "FLAGS", flags,
                                               "LIMIT", ck_show(ck, rl)));
    if (strpbrk(flags, "DO") && rl > 1)
        ck_finding(ck, rule, ck_fmt(ck, "flags=%s (Delivered-To/X-Original-To) with "
                                    "%s_destination_recipient_limit = %s", flags, t->name,
                                    ck_show(ck, rl)),
                   ck_fmt(ck, "master.cf %s, main.cf", t->svc->name),
                   CK_VARS("TRANSPORT", t->name));
    else
        ck_pass(ck, rule, t->svc->name, NULL);
}

/* rl_pipe_recipient_limit - rule pipe-recipient-limit */
static void rl_pipe_recipient_limit(CK *ck, const CK_RULE *rule)
{
    rl_pipes(ck, rule, rl_recipient_limit_one);
}

/* rl_time_limit_one - pipe(8) kills the filter before it gives up */
static void rl_time_limit_one(CK *ck, const CK_RULE *rule, const CK_TRANSPORT *t)
{
    const char *own = ck_fmt(ck, "%s_time_limit", t->name), *tl, *where, *pd;

    if (t->set == NULL)
        return;
    if (ck_sv_own(ck, t->svc, own)) {
        tl = ck_sv(ck, t->svc, own);
        where = ck_fmt(ck, "master.cf %s -o %s", t->svc->name, own);
    } else if (ck_map_get(&ck->mset, own)) {
        tl = ck_main(ck, own);
        where = ck_fmt(ck, "main.cf %s", own);
    } else if (ck_sv_own(ck, t->svc, "command_time_limit")) {
        tl = ck_sv(ck, t->svc, "command_time_limit");
        where = ck_fmt(ck, "master.cf %s -o command_time_limit", t->svc->name);
    } else {
        tl = *ck_main(ck, "command_time_limit") ? ck_main(ck, "command_time_limit") : "1000s";
        where = "command_time_limit";
    }
    pd = t->set->pipe_deadline;
    ck_explain(ck, rule, t->svc->name, CK_VARS("WHERE", where, "VALUE", tl, "DEADLINE", pd));
    if (ck_seconds(tl) <= ck_seconds(pd))
        ck_finding(ck, rule, ck_fmt(ck, "%s = %s is not above postsift's pipe_deadline = %s",
                                    where, tl, pd), where, CK_VARS("TRANSPORT", t->name));
    else
        ck_pass(ck, rule, t->svc->name, NULL);
}

/* rl_pipe_time_limit - rule pipe-time-limit */
static void rl_pipe_time_limit(CK *ck, const CK_RULE *rule)
{
    rl_pipes(ck, rule, rl_time_limit_one);
}

/* rl_command_missing_one - argv[0] is not there */
static void rl_command_missing_one(CK *ck, const CK_RULE *rule, const CK_TRANSPORT *t)
{
    CK_LIST argv = {0};
    const char *prog;
    int     ok;

    ck_argv(ck, t->svc, &argv);
    prog = argv.n ? argv.v[0] : "";
    ck_explain(ck, rule, t->svc->name, CK_VARS("PROGRAM", prog));
    if (*prog == 0 || (ok = postconf_executable(ck, prog)) > 0)
        ck_pass(ck, rule, t->svc->name, NULL);
    else if (ok < 0)
        ck_say(ck, "%s: the snapshot has no list of programs: %s not checked",
               t->svc->name, prog);
    else
        ck_finding(ck, rule, ck_fmt(ck, "%s is not an executable file", prog),
                   ck_fmt(ck, "master.cf %s", t->svc->name), CK_NOVARS);
}

/* rl_pipe_command_missing - rule pipe-command-missing */
static void rl_pipe_command_missing(CK *ck, const CK_RULE *rule)
{
    rl_pipes(ck, rule, rl_command_missing_one);
}

/* ---------------------------------------------------------------- the filter */

/* rl_filter_not_answering - the filter's port, probed */
static void rl_filter_not_answering(CK *ck, const CK_RULE *rule)
{
    VBUF   *why = vbuf_alloc(4096);
    size_t  i;
    int     rc;

    for (i = 0; i < ck->probes.n; i++) {
        const CK_PROBE *p = ck->probes.v[i];

        ck_explain(ck, rule, p->what, CK_VARS("HOST", p->host, "PORT", p->port));
        vbuf_reset(why);
        if ((rc = ck_probe(ck, p->host, p->port, why)) == 0)
            ck_pass(ck, rule, p->what, vbuf_str(why));
        else if (rc == -2)
            ck_say(ck, "%s: no result for %s:%s in the snapshot's probe file: not checked",
                   p->what, p->host, p->port);
        else if (rc == 1)
            ck_finding(ck, rule, ck_fmt(ck, "the filter on %s:%s does not answer within %ds",
                                        p->host, p->port, CK_PROBE_TIME), p->what, CK_NOVARS);
        else
            ck_finding(ck, rule, ck_fmt(ck, "the filter on %s:%s: %s", p->host, p->port,
                                        vbuf_str(why)), p->what, CK_NOVARS);
    }
    vbuf_free(why);
}

/* rl_filter_transport_missing - a request names no service */
static void rl_filter_transport_missing(CK *ck, const CK_RULE *rule)
{
    size_t  i;

    for (i = 0; i < ck->transports.n; i++) {
        const CK_TRANSPORT *t = ck->transports.v[i];

        ck_explain(ck, rule, t->origin, CK_VARS("TRANSPORT", t->name));
        if (t->svc)
            ck_pass(ck, rule, t->origin, NULL);
        else
            ck_finding(ck, rule, ck_fmt(ck, "a content filter names transport %s, which "
                                        "master.cf does not have", t->name), t->origin,
                       CK_VARS("TRANSPORT", t->name));
    }
}

/* rl_filter_config - the filter refuses its settings */
static void rl_filter_config(CK *ck, const CK_RULE *rule)
{
    size_t  i;

    for (i = 0; i < ck->settings.n; i++) {
        const CK_SETTINGS *s = ck->settings.v[i];

        ck_explain(ck, rule, s->conf, CK_VARS("CONF", s->conf));
        if (s->error == NULL)
            ck_pass(ck, rule, s->conf, NULL);
        else
            ck_finding(ck, rule, ck_fmt(ck, "postsift-filter refuses its configuration: %s",
                                        s->error), s->conf, CK_VARS("CONF", s->conf));
    }
}

/* ---------------------------------------------------------------- the table */

const CK_RULE ck_rules[] = {
    {"reinject-content-filter", rl_reinject_content_filter,
     "The reinjection smtpd has a non-empty content_filter (its own -o, or main.cf's "
     "inherited): after the queue any, before it one that names a filter transport.",
     "mail coming back must not be given a content filter again (content_filter = '<VALUE>')",
     "filtered mail is filtered again and again: a mail loop, deferred by postsift (too many "
     "X-Virus-Scanned headers) or bounced by Postfix (mail forwarding loop)",
     "add -o content_filter= to <SERVICE> (FILTER_README)"},
    {"reinject-proxy-filter", rl_reinject_proxy_filter,
     "The reinjection smtpd has smtpd_proxy_filter (usually main.cf's, inherited).",
     "the reinjection smtpd must not pass mail to a before-queue filter "
     "(smtpd_proxy_filter = '<VALUE>')",
     "filtered mail goes through the filter again: a loop, each message held until it "
     "times out",
     "set smtpd_proxy_filter on the listening services only (-o), not in main.cf, or add "
     "-o smtpd_proxy_filter= to <SERVICE>"},
    {"reinject-filter-restriction", rl_reinject_filter_restriction,
     "A restriction list of the reinjection smtpd of an after-queue filter has "
     "check_*_access with a table that returns FILTER (or that cannot be read), or "
     "check_policy_service.",
     "no restriction of the reinjection smtpd may return FILTER (access tables, policy "
     "services)",
     "a FILTER on the way back sends filtered mail to a content filter again: a mail loop",
     "clear the restrictions of <SERVICE> (-o <PARAM>=, as postsift-postfix install does)"},
    {"reinject-header-body-checks", rl_reinject_header_body_checks,
     "header_checks, mime_header_checks, nested_header_checks or body_checks are set, and "
     "the receive_override_options of the reinjection smtpd of an after-queue filter lack "
     "no_header_body_checks; or a filter reinjects with sendmail and pickup's lack it "
     "(reinjecting by SMTP avoids that).",
     "header/body checks (<CHECKS>) must not run again on filtered mail: "
     "receive_override_options ('<VALUE>') needs no_header_body_checks",
     "a FILTER action there loops, and a REJECT after the filter accepted bounces the mail",
     "add no_header_body_checks to -o receive_override_options of <SERVICE> (FILTER_README)"},
    {"reinject-milters", rl_reinject_milters,
     "smtpd_milters are set and the receive_override_options of the reinjection smtpd of "
     "an after-queue filter lack no_milters; or non_smtpd_milters are set, a filter "
     "reinjects with sendmail and pickup's lack it.",
     "milters (<PARAM> = '<VALUE>') must not run again on filtered mail: "
     "receive_override_options ('<OPTIONS>') needs no_milters",
     "milters see each message twice: a second signature, and a reject after the filter "
     "accepted bounces the mail",
     "add no_milters to -o receive_override_options of <SERVICE> (FILTER_README)"},
    {"reinject-receive-override", rl_reinject_receive_override,
     "The reinjection smtpd's receive_override_options lack no_unknown_recipient_checks "
     "(FILTER_README and SMTPD_PROXY_README set it).",
     "receive_override_options ('<VALUE>') needs no_unknown_recipient_checks",
     "recipients accepted before the filter are looked up again: a table change in between "
     "bounces mail that was accepted",
     "add -o receive_override_options=<OPTIONS> to <SERVICE>"},
    {"reinject-address-mappings", rl_reinject_address_mappings,
     "The reinjection smtpd has no_address_mappings (often main.cf's, inherited) while "
     "every way into the filter has it too. With --only the listening smtpd maps, and the "
     "reinjection smtpd must not map again: that is not a finding.",
     "address mappings (virtual aliases, canonical, bcc) must happen once: before the filter "
     "(a way in without no_address_mappings) or behind it",
     "virtual aliases, canonical maps and always_bcc are never applied to filtered mail: it "
     "goes to the wrong place or bounces",
     "give <SERVICE> its own -o receive_override_options without no_address_mappings"},
    {"filter-address-mappings", rl_filter_address_mappings,
     "A service (or main.cf) that sets a content_filter to an SMTP filter (the advanced "
     "design) lacks no_address_mappings in receive_override_options. FILTER_README advises "
     "it there; its simple design does not, so a pipe filter is not checked.",
     "content_filter <FILTER>: receive_override_options ('<VALUE>') should have "
     "no_address_mappings",
     "address mappings run before and again after the filter: always_bcc and bcc maps "
     "deliver twice, and the filter sees rewritten addresses",
     "add no_address_mappings to receive_override_options where content_filter is set "
     "(FILTER_README)"},
    {"reinject-xforward", rl_reinject_xforward,
     "smtpd_authorized_xforward_hosts of the reinjection smtpd does not cover 127.0.0.1 "
     "while the filter sends XFORWARD (postsift always relays what it got; the scan "
     "transport with smtp_send_xforward_command=yes).",
     "smtpd_authorized_xforward_hosts ('<VALUE>') must include 127.0.0.1: <FILTERS> "
     "sends XFORWARD",
     "filtered mail is logged and checked as coming from localhost[127.0.0.1]: the original "
     "client is lost",
     "add -o smtpd_authorized_xforward_hosts=127.0.0.0/8 to <SERVICE>"},
    {"scan-xforward", rl_scan_xforward,
     "The scan transport (an smtp(8) or lmtp(8) service that a content filter names) does "
     "not send XFORWARD.",
     "<PARAM> = yes forwards the client's name and address",
     "filtered mail is logged and checked as coming from localhost: the original client "
     "is lost",
     "add -o <PARAM>=yes to the <TRANSPORT> entry"},
    {"reinject-process-limit", rl_reinject_process_limit,
     "The reinjection smtpd's process limit is below the concurrency of the filters that "
     "reinject into it: a pipe service or scan transport (its process limit, at most "
     "TRANSPORT_destination_concurrency_limit), bounded by smtpd_workers for the daemon and "
     "by the process limit of a spawn(8) service.",
     "its process limit (<LIMIT>) must not be below the filters' concurrency (<CONCURRENCY>)",
     "filters wait for a free smtpd and time out: mail is deferred and delayed, and may be "
     "delivered twice",
     "raise the process limit of <SERVICE> to <CONCURRENCY> or more (FILTER_README)"},
    {"scan-concurrency", rl_scan_concurrency,
     "The scan transport's concurrency (its process limit, at most "
     "TRANSPORT_destination_concurrency_limit) is above the daemon's smtpd_workers or the "
     "spawn(8) service's process limit.",
     "its concurrency (<CONCURRENCY>) must not exceed the filter's (<FILTER>: <LIMIT>)",
     "the extra deliveries wait for a free filter process and time out: mail is deferred "
     "and delayed",
     "lower the process limit of <TRANSPORT> to <LIMIT>, or raise smtpd_workers (or the "
     "spawn service's limit)"},
    {"scan-data-done-timeout", rl_scan_data_done_timeout,
     "smtp_data_done_timeout (lmtp_data_done_timeout) of the scan transport is below the "
     "filter's smtpd_data_done_timeout plus 60s (Postfix's default is 600s). The filter "
     "drops a copy whose client has gone.",
     "<PARAM> ('<VALUE>') must exceed the filter's smtpd_data_done_timeout "
     "(<FILTER_TIMEOUT>) by 60s",
     "Postfix gives up on a slow scan and tries again: a message that always scans that "
     "long is deferred until it bounces, one that ends as Postfix gives up is delivered "
     "twice",
     "add -o <PARAM>=<SECONDS>s (or more) to the <TRANSPORT> entry"},
    {"proxy-timeout", rl_proxy_timeout,
     "Before the queue: smtpd_proxy_timeout (default 100s) is below the filter's "
     "smtpd_data_done_timeout plus 60s.",
     "smtpd_proxy_timeout ('<VALUE>') must exceed the filter's smtpd_data_done_timeout "
     "(<FILTER_TIMEOUT>) by 60s",
     "a slow scan gets the client 451 while the filter still works: mail that always scans "
     "that long is never accepted, and one whose scan ends just then is delivered twice",
     "add -o smtpd_proxy_timeout=600s to <SERVICE>"},
    {"proxy-filter-action", rl_proxy_filter_action,
     "An smtpd with smtpd_proxy_filter has an access table that returns FILTER.",
     "no access table of a proxied smtpd may return FILTER",
     "smtpd ignores FILTER with smtpd_proxy_filter (action FILTER is unavailable): the mail "
     "it selects is not sent to that filter",
     "remove the FILTER entries, or filter that mail after the queue on a service without "
     "smtpd_proxy_filter"},
    {"pipe-null-sender", rl_pipe_null_sender,
     "The pipe service has no null_sender= attribute, or a non-empty one: pipe(8) passes "
     "the null sender as MAILER-DAEMON, or as that value.",
     "the pipe service must say null_sender= (empty)",
     "the filter is told that bounces come from a real address: a reinjection that does "
     "not map it back (sendmail -f, another MTA) gives them a sender that their own bounces "
     "go to, and loops",
     "set null_sender= (empty) in the <TRANSPORT> entry, before argv= (FILTER_README)"},
    {"pipe-sendmail-t", rl_pipe_sendmail_t,
     "The pipe's argv runs sendmail with -t.",
     "argv must not run sendmail with -t",
     "mail goes to the To/Cc/Bcc addresses instead of the envelope: list mail goes back to "
     "the list, Bcc recipients lose mail",
     "use sendmail -G -i -f ${sender} -- ${recipient}, never -t (FILTER_README)"},
    {"pipe-recipient-limit", rl_pipe_recipient_limit,
     "The pipe's flags have D or O and TRANSPORT_destination_recipient_limit is above 1.",
     "flags D or O need <TRANSPORT>_destination_recipient_limit = 1 (flags=<FLAGS>, "
     "limit <LIMIT>)",
     "pipe(8) defers every message with more than one recipient (mail system configuration "
     "error), until it bounces",
     "set <TRANSPORT>_destination_recipient_limit = 1 in main.cf, or drop D and O from flags"},
    {"pipe-time-limit", rl_pipe_time_limit,
     "TRANSPORT_time_limit (or the service's -o command_time_limit, or command_time_limit) "
     "is not above postsift's pipe_deadline. (The shipped pipe_status_filter turns the "
     "bounce into a deferral that repeats.)",
     "pipe(8)'s time limit (<WHERE> = <VALUE>) must be above postsift's pipe_deadline "
     "(<DEADLINE>)",
     "pipe(8) kills a slow filter before it gives up by itself: the message bounces "
     "(Command time limit exceeded) instead of being deferred",
     "raise <TRANSPORT>_time_limit above pipe_deadline (by a minute or more), or lower "
     "pipe_deadline in postsift.conf"},
    {"pipe-command-missing", rl_pipe_command_missing,
     "The pipe's argv[0] is not an executable file (with --snapshot: not in its programs "
     "file).",
     "argv[0] <PROGRAM> must be an executable file",
     "pipe(8) cannot run the filter: every message is deferred or bounced",
     "install the program, or correct argv="},
    {"global-filter-sendmail-loop", rl_global_filter_sendmail_loop,
     "A content_filter applies to pickup (main.cf's, not overridden by pickup's -o) while a "
     "filter reinjects with sendmail.",
     "<FILTERS> reinjects with sendmail: pickup must not add a content filter ('<VALUE>')",
     "mail the filter gives back is filtered again and again: a mail loop",
     "set the content_filter with -o on the smtpd services only (FILTER_README simple "
     "design), or reinject by SMTP to an smtpd with -o content_filter="},
    {"filter-not-answering", rl_filter_not_answering,
     "The filter's port (the scan transport's next hop, or smtpd_proxy_filter) refuses the "
     "connection, does not greet with 220 or does not answer EHLO with 250 within 25s.",
     "connect to <HOST>:<PORT>, expect 220, EHLO, expect 250",
     "mail for it is deferred and waits in the queue (or, before the queue, every client "
     "gets 4xx)",
     "start the filter (postsift-filter -m smtpd -d) and check smtpd_listen, or the "
     "spawn(8) service"},
    {"reinject-missing", rl_reinject_missing,
     "The filter reinjects to a loopback port that no master.cf service has, or to one "
     "whose service is not smtpd.",
     "<FILTERS> reinjects to port <PORT>: an smtpd service must listen there",
     "filtered mail cannot come back: every filtered message is deferred",
     "add the reinjection smtpd on 127.0.0.1:<PORT> (postsift-postfix install adds it), or "
     "correct reinject_target"},
    {"filter-transport-missing", rl_filter_transport_missing,
     "A content_filter or FILTER action names a transport that master.cf does not have.",
     "transport <TRANSPORT> must be a master.cf service",
     "the mail is deferred (mail transport unavailable) until it bounces",
     "add the <TRANSPORT> service, or correct the content_filter / FILTER action"},
    {"milter-default-action", ck_milter_default_action,
     "postsift's milter (the entry of smtpd_milters or non_smtpd_milters that is postsift.conf's "
     "milter_listen) has a default action other than tempfail: milter_default_action (main.cf "
     "or a service's -o), or default_action in the milter's { } settings. All three others are "
     "findings: accept is the worst for a scanner (mail flows unscanned and nobody is told), "
     "reject refuses mail that was never judged (the senders bounce it), quarantine holds "
     "every message unscanned until someone releases it.",
     "postsift's milter <MILTER> needs default_action tempfail (now '<VALUE>')",
     "while the milter is down, slow or refusing, mail is not scanned: accept delivers it, "
     "quarantine holds it for a release that delivers it unscanned, reject makes the senders "
     "bounce it",
     "set milter_default_action = tempfail (postsift-postfix install milter does), or "
     "default_action = tempfail in the { } settings of <MILTER>"},
    {"milter-content-timeout", ck_milter_content_timeout,
     "The content time-out of postsift's milter (milter_content_timeout, or content_timeout in "
     "its { } settings) is below the filter's smtpd_data_done_timeout (its limit for scanning "
     "one message) plus 60s. The connect and command time-outs are not compared: postsift "
     "scans at the end of the message, under the content time-out.",
     "the content time-out ('<VALUE>') must exceed the filter's smtpd_data_done_timeout "
     "(<FILTER_TIMEOUT>) by 60s",
     "Postfix gives up on a slow scan and applies the default action: with tempfail a message "
     "that always scans that long is retried until the sender gives up, with accept it goes "
     "through unscanned",
     "set milter_content_timeout = <SECONDS>s or more (and below 600s, the client's limit for "
     "the final dot), as postsift-postfix install milter does"},
    {"milter-and-content-filter", ck_milter_and_content_filter,
     "An smtpd service (or pickup, for non_smtpd_milters) gives its mail to postsift's milter "
     "and to postsift as a content filter as well: its content_filter or a FILTER action names "
     "a postsift transport, or its smtpd_proxy_filter is postsift.",
     "mail that postsift's milter <MILTER> scans must not go through postsift again",
     "every message is scanned twice: twice the time and CPU, and a message the milter passed "
     "or tagged can be rejected or quarantined by the second pass, after the client was told "
     "250",
     "keep one design: postsift-postfix remove, then install either milter or a content filter "
     "design"},
    {"milter-not-answering", ck_milter_not_answering,
     "postsift's milter does not answer: connect to its address (a unix: socket relative to "
     "queue_directory, or inside it for a chrooted smtpd), send SMFIC_OPTNEG (protocol "
     "version 6), expect SMFIC_OPTNEG back, all within 10s. A missing socket, a refused "
     "connection, a time-out or another answer are findings.",
     "connect to <MILTER>, send SMFIC_OPTNEG, expect SMFIC_OPTNEG",
     "every SMTP client that the milter should scan gets 4xx (tempfail) and its mail waits at "
     "the sender; with default_action accept it passes unscanned",
     "start the milter (systemctl enable --now postsift-milter, or postsift-filter -m milter) "
     "and compare milter_listen in postsift.conf with smtpd_milters"},
    {"milter-workers", ck_milter_workers,
     "postsift.conf's milter_workers is below the sum of the process limits of the smtpd "
     "services that use postsift's milter. Each smtpd process holds one milter session for "
     "its whole SMTP session, and a worker serves one session at a time: the sessions past "
     "milter_workers do not share a worker, they wait in the listen queue.",
     "milter_workers (<WORKERS>) must not be below the SMTP sessions that use the milter "
     "(<SESSIONS>)",
     "under load the extra SMTP sessions wait for a free worker; past milter_connect_timeout "
     "or milter_command_timeout they get the default action (4xx with tempfail) and the "
     "clients retry later",
     "raise milter_workers to <SESSIONS> or more, or lower the process limit of <SERVICES>"},
    {"policy-missing", ck_policy_missing,
     "A check_policy_service of an smtpd restriction list names postsift-policy, but nothing "
     "serves it: unix:private/NAME (NAME with postsift in it) and master.cf has no NAME/unix "
     "service; or an inet: address that is postsift.conf's policy_listen does not answer a "
     "policy request (protocol_state=CONNECT, so that no rate rule counts it) with an "
     "action= line within 10s.",
     "check_policy_service <ADDR> must reach postsift-policy",
     "Postfix cannot ask the policy service: after its tries every recipient gets the "
     "service's default_action (DEFER_IF_PERMIT as install sets it: all mail waits at the "
     "clients; Postfix's default is 451 4.3.5)",
     "run postsift-postfix install policy again (spawn), or start the daemon "
     "(postsift-policy -m daemon) and compare policy_listen with <ADDR>"},
    {"policy-timeout", ck_policy_timeout,
     "Postfix's time limit for postsift-policy's answer (timeout= in the { } settings of "
     "check_policy_service, else smtpd_policy_service_timeout) is not above what one answer "
     "may take: policy_timeout + policy_command_timeout + 2 x policy_store_timeout (the rules "
     "file is not read: a command rule is assumed). Or, for a spawn(8) service, its time "
     "limit (NAME_time_limit, else command_time_limit, 1000s) is below the longest a "
     "connection lives, max_ttl (smtpd_policy_service_max_ttl) or policy_idle_timeout, "
     "plus 60s.",
     "Postfix must wait for postsift-policy (<ADDR>) longer than it may take (<VALUE>, "
     "need more than <NEED>s)",
     "a slow answer (a command rule, a Redis store that does not answer) becomes Postfix's "
     "time-out and default_action instead of postsift's own answer; spawn(8) kills "
     "postsift-policy in the middle of a connection, and the request in flight gets the "
     "default action",
     "set <SETTING> (postsift-postfix install policy does), or lower postsift's timeouts"},
    {"policy-after-permit", ck_policy_after_permit,
     "check_policy_service of postsift-policy comes after a permit in the same restriction "
     "list (permit, permit_mynetworks, permit_sasl_authenticated, permit_auth_destination, "
     "permit_tls_clientcerts, ...): for the clients the permit lets through, Postfix ends "
     "the list and never asks the service. check_*_access tables that may answer OK are not "
     "judged.",
     "nothing that ends <PARAM> may come before check_policy_service <ADDR>",
     "rules are silently skipped for those clients: a rate limit per SASL user never counts "
     "after permit_sasl_authenticated, signed addresses are not checked for mail from "
     "mynetworks",
     "move check_policy_service <ADDR> before <PERMIT> (postsift-postfix install policy "
     "puts it right after reject_unauth_destination, or before the first permit)"},
    {"clamd-stream-max-length", ck_clamd_stream_max_length,
     "postsift.conf's scanner names clamd (clamd:unix:/path, clamd:inet:host:port), and the "
     "StreamMaxLength of that clamd's clamd.conf (ClamAV's default 100M when absent) is below "
     "postsift's message_size_limit. postsift sends each part with INSTREAM; clamd stops "
     "reading past StreamMaxLength and answers INSTREAM size limit exceeded. Which clamd.conf: "
     "--clamd-conf, the snapshot's clamd.conf, or the one of /etc/clamav/clamd.conf, "
     "/etc/clamd.conf, /etc/clamd.d/*.conf and /usr/local/etc whose LocalSocket or TCPSocket "
     "is the server's (/var/run and /run taken as one); a server without one is not checked.",
     "clamd's StreamMaxLength (<VALUE>) must not be below postsift's message_size_limit "
     "(<LIMIT>)",
     "a part larger than StreamMaxLength is a scan error (INSTREAM size limit exceeded): "
     "postsift applies error_action (<ACTION>); with defer, after the queue the message is "
     "retried until maximal_queue_lifetime bounces it, before the queue every try of the "
     "client gets 4xx",
     "set StreamMaxLength <SIZE> (or more) in <CONF> and restart clamd, or lower "
     "message_size_limit in postsift.conf"},
    {"clamd-alert-encrypted", ck_clamd_alert_encrypted,
     "postsift's clamd (see clamd-stream-max-length for which clamd.conf) has "
     "AlertEncryptedArchive or AlertEncryptedDoc off (AlertEncrypted yes turns on both; "
     "ClamAV's default for all three is no).",
     "clamd must report what it cannot decrypt (<VALUE>)",
     "an encrypted archive or PDF comes back clean and is delivered as clean although nothing "
     "in it was scanned; postsift marks as unchecked only the archives that it opens itself",
     "set AlertEncrypted yes in <CONF> and restart clamd (such parts then come back as "
     "Heuristics.Encrypted and get virus_action)"},
    {"clamd-alert-exceeds-max", ck_clamd_alert_exceeds_max,
     "postsift's clamd has AlertExceedsMax off (ClamAV's default): what is over MaxFileSize, "
     "MaxScanSize or MaxRecursion is scanned in part or not at all, and the answer is OK.",
     "clamd must report what it did not scan whole (<VALUE>)",
     "a part (or an archive member) over clamd's limits comes back clean and is delivered as "
     "clean: a large or deeply nested attachment carries a virus through unseen",
     "set AlertExceedsMax yes in <CONF> and restart clamd (such parts then come back as "
     "Heuristics.Limits.Exceeded and get virus_action), and keep MaxFileSize and MaxScanSize "
     "at least message_size_limit"},
    {"clamd-max-size", ck_clamd_max_size,
     "postsift's clamd has MaxFileSize (default 100M) or MaxScanSize (default 400M) below "
     "postsift's message_size_limit: a part that postsift scans can be larger than what "
     "clamd scans.",
     "clamd's limits must not be below postsift's message_size_limit (<LIMIT>)",
     "with AlertExceedsMax off a larger part comes back clean, scanned in part or not at "
     "all; with it on, a clean attachment larger than the limit is found as "
     "Heuristics.Limits.Exceeded and gets virus_action",
     "set MaxFileSize and MaxScanSize to <SIZE> or more in <CONF> and restart clamd, or "
     "lower message_size_limit in postsift.conf"},
    {"size-limits", ck_size_limits,
     "Postfix's message_size_limit (default 10240000) as a service that feeds postsift sees "
     "it (the smtpd or pickup of a content_filter, the smtpd of smtpd_proxy_filter or of "
     "postsift's milter; its -o, else main.cf's) is above postsift's message_size_limit; or "
     "the reinjection smtpd's is below the largest message that postsift passes on to it "
     "(what its ways in accept; at most postsift's limit when Postfix delivers to postsift by "
     "SMTP, or when oversize_action is not pass or tag).",
     "Postfix's message_size_limit (<POSTFIX>) and postsift's (<POSTSIFT>) must agree",
     "mail that Postfix accepts above postsift's limit is not scanned: it gets oversize_action "
     "(pipe, before-queue and milter designs), or Postfix's smtp client bounces it because "
     "postsift announces SIZE (after-queue SMTP designs); mail that comes back above the "
     "reinjection smtpd's limit is refused there (552 5.3.4) after it was accepted and "
     "scanned, and bounces",
     "give message_size_limit the same value (<SIZE>) in postsift.conf, in main.cf and in the "
     "-o message_size_limit of the services that feed postsift or take its mail back"},
    {"filter-config", rl_filter_config,
     "The filter's configuration (postsift.conf with the -o arguments of the service's "
     "argv) does not load as postsift-filter loads it. The other rules then use what the "
     "file says, read as text.",
     "<CONF> must load as postsift-filter loads it",
     "the filter defers every message (pipe mode) or does not start (daemon)",
     "correct <CONF>, then run postsift-filter -c <CONF> -n"},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};

/* ck_rule - the rule with this id, NULL when there is none */
const CK_RULE *ck_rule(const char *id)
{
    const CK_RULE *r;

    for (r = ck_rules; r->id; r++)
        if (strcmp(r->id, id) == 0)
            return r;
    return NULL;
}

/* ck_run_rules - every rule of the table, in order */
void    ck_run_rules(CK *ck)
{
    const CK_RULE *r;

    for (r = ck_rules; r->id; r++)
        r->check(ck, r);
}

/* ck_man - the rules as roff, for the CHECK section of postsift-postfix(8) */
void    ck_man(FILE *fp)
{
    CK      ck;
    const CK_RULE *r;

    memset(&ck, 0, sizeof(ck));
    for (r = ck_rules; r->id; r++) {
        fprintf(fp, ".TP\n\\fB%s\\fR\n", rl_render(&ck, r->id, NULL, 1));
        fprintf(fp, "%s\n.IP\n", rl_render(&ck, r->about, NULL, 1));
        fprintf(fp, "Harm: %s.\n.IP\n", rl_render(&ck, r->harm, NULL, 1));
        fprintf(fp, "Fix: %s.\n", rl_render(&ck, r->fix, NULL, 1));
    }
    ck_pool_release(&ck);
}
