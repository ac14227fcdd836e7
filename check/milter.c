/*
 * milter - the rules about postsift as a before-queue milter: its entry
 * in smtpd_milters (each smtpd service's, its own -o or main.cf's) or in
 * main.cf's non_smtpd_milters, found by the filter's milter_listen.
 *
 * A use is one list that names postsift's milter: an smtpd service
 * (without no_milters) or non_smtpd_milters (cleanup, for sendmail and
 * pickup). Per-milter settings in braces ({ inet:..., default_action =
 * accept }) win over main.cf's milter_* parameters, as in Postfix.
 * Nothing is read when no milter list is set at all.
 */
#include <stdlib.h>
#include <string.h>

#include "check/check.h"

/* Postfix 3.7's defaults, for a snapshot without postconf-x */
static const char *const mt_defaults[][2] = {
    {"milter_command_timeout", "30s"},
    {"milter_connect_timeout", "30s"},
    {"milter_content_timeout", "300s"},
    {"milter_default_action", "tempfail"},
    {"queue_directory", "/var/spool/postfix"},
};

/* One list that names postsift's milter. */
typedef struct MT_USE {
    const CK_SERVICE *svc;      /* the smtpd; NULL: non_smtpd_milters */
    const char *param;          /* smtpd_milters, non_smtpd_milters */
    const char *entry;          /* the list entry, braces and all */
    const char *addr;           /* its address */
    const char *where;          /* where the list is set */
} MT_USE;

/* mt_value - a parameter as svc (NULL: main.cf) sees it, else Postfix's
   default */
static const char *mt_value(CK *ck, const CK_SERVICE *svc, const char *name)
{
    const char *v = svc ? ck_sv(ck, svc, name) : ck_main(ck, name);
    size_t  i;

    for (i = 0; *v == 0 && i < sizeof(mt_defaults) / sizeof(mt_defaults[0]); i++)
        if (strcmp(mt_defaults[i][0], name) == 0)
            v = mt_defaults[i][1];
    return v;
}

/* mt_where - where svc's value of name comes from, one place per value */
static const char *mt_where(CK *ck, const CK_SERVICE *svc, const char *name)
{
    if (svc && ck_sv_own(ck, svc, name))
        return ck_fmt(ck, "master.cf %s -o %s", svc->name, name);
    return ck_fmt(ck, "%s %s", ck_map_get(&ck->mset, name) ? "main.cf" : "default", name);
}

/* mt_unix_path - the socket of a unix: address as Postfix's daemons
   reach it: they run in queue_directory, and chrooted there when the
   service says so */
static const char *mt_unix_path(CK *ck, const char *path, int chroot)
{
    const char *q = mt_value(ck, NULL, "queue_directory");

    if (*path != '/' || chroot)
        return ck_fmt(ck, "%s/%s", q, path + (*path == '/'));
    return path;
}

/* mt_inet6 - "inet6:ADDR:PORT" as "inet:[ADDR]:PORT"; others as they are */
static const char *mt_inet6(CK *ck, const char *a)
{
    const char *colon = strrchr(a, ':');

    if (strncmp(a, "inet6:", 6) != 0 || colon < a + 6)
        return a;
    return ck_fmt(ck, "inet:[%.*s]%s", (int)(colon - a - 6), a + 6, colon);
}

/* mt_inet_match - an inet address of a list is a listen address */
static int mt_inet_match(CK *ck, const char *addr, const char *listen)
{
    const char *h1, *p1, *h2, *p2;

    if (ck_parse_addr(ck, mt_inet6(ck, addr), &h1, &p1) < 0
        || ck_parse_addr(ck, mt_inet6(ck, listen), &h2, &p2) < 0 || strcmp(p1, p2) != 0)
        return 0;
    return strcmp(h1, h2) == 0 || (ck_is_loopback(h1) && ck_is_loopback(h2))
        || strcmp(h2, "0.0.0.0") == 0 || strcmp(h2, "*") == 0 || strcmp(h2, "::") == 0;
}

/* mt_ours - addr (of a list entry) is one of postsift's milter_listen */
static int mt_ours(CK *ck, const char *addr, const CK_SETTINGS *set)
{
    CK_LIST listen = {0};
    size_t  i;

    ck_list_split(ck, &listen, set->milter_listen ? set->milter_listen : "");
    for (i = 0; i < listen.n; i++) {
        const char *l = listen.v[i];

        if (strncmp(l, "unix:", 5) == 0 && strncmp(addr, "unix:", 5) == 0) {
            if (strcmp(l + 5, addr + 5) == 0 || strcmp(mt_unix_path(ck, addr + 5, 1), l + 5) == 0)
                return 1;
        } else if (strncmp(l, "unix:", 5) != 0 && strncmp(addr, "unix:", 5) != 0
                   && mt_inet_match(ck, addr, l)) {
            return 1;
        }
    }
    return 0;
}

/* mt_add_uses - the entries of list that are postsift's, as uses */
static void mt_add_uses(CK *ck, CK_LIST *uses, const CK_SETTINGS *set, const CK_SERVICE *svc,
                        const char *param, const char *list, const char *where)
{
    CK_LIST entries = {0};
    size_t  i;

    ck_list_split(ck, &entries, list);
    for (i = 0; i < entries.n; i++) {
        const char *addr = ck_entry_addr(ck, entries.v[i]);
        MT_USE *u;

        if (!mt_ours(ck, addr, set))
            continue;
        u = ck_alloc(ck, sizeof(*u));
        u->svc = svc;
        u->param = param;
        u->entry = entries.v[i];
        u->addr = addr;
        u->where = where;
        ck_list_add(ck, uses, u);
    }
}

/* mt_find - every use of postsift's milter; its settings in *setp (NULL
   when no milter list is set anywhere) */
static void mt_find(CK *ck, CK_LIST *uses, CK_SETTINGS **setp)
{
    const char *non = ck_main(ck, "non_smtpd_milters");
    int     any = *non != 0;
    size_t  i;

    for (i = 0; i < ck->services.n && !any; i++)
        any = strcmp(ck_daemon(ck->services.v[i]), "smtpd") == 0
            && *ck_sv(ck, ck->services.v[i], "smtpd_milters");
    *setp = NULL;
    if (!any)
        return;
    *setp = ck_daemon_settings(ck, "milter");
    for (i = 0; i < ck->services.n; i++) {
        const CK_SERVICE *s = ck->services.v[i];

        if (strcmp(ck_daemon(s), "smtpd") != 0
            || ck_has_opt(ck_sv(ck, s, "receive_override_options"), "no_milters"))
            continue;
        mt_add_uses(ck, uses, *setp, s, "smtpd_milters", ck_sv(ck, s, "smtpd_milters"),
                    ck_sv_where(ck, s, "smtpd_milters"));
    }
    mt_add_uses(ck, uses, *setp, NULL, "non_smtpd_milters", non, "main.cf non_smtpd_milters");
}

/* mt_use_name - a use for -v: "smtp/inet smtpd_milters" */
static const char *mt_use_name(CK *ck, const MT_USE *u)
{
    return ck_fmt(ck, "%s%s%s", u->svc ? u->svc->name : "", u->svc ? " " : "", u->param);
}

/* ck_milter_default_action - rule milter-default-action */
void    ck_milter_default_action(CK *ck, const CK_RULE *rule)
{
    CK_SETTINGS *set;
    CK_LIST uses = {0};
    const char *act, *where;
    size_t  i;

    mt_find(ck, &uses, &set);
    for (i = 0; i < uses.n; i++) {
        const MT_USE *u = uses.v[i];

        if ((act = ck_entry_opt(ck, u->entry, "default_action")) != NULL)
            where = ck_fmt(ck, "%s, %s", u->where, u->entry);
        else
            act = mt_value(ck, u->svc, "milter_default_action"), where =
                mt_where(ck, u->svc, "milter_default_action");
        ck_explain(ck, rule, mt_use_name(ck, u), CK_VARS("MILTER", u->addr, "VALUE", act));
        if (strcmp(act, "tempfail") == 0) {
            ck_pass(ck, rule, mt_use_name(ck, u), NULL);
            continue;
        }
        ck_finding(ck, rule, ck_fmt(ck, "default_action %s for postsift's milter %s (%s): %s",
                                    act, u->addr, mt_use_name(ck, u),
                                    strcmp(act, "accept") == 0 ? "mail is accepted unscanned"
                                    : strcmp(act, "reject") == 0 ? "mail is refused with 5xx"
                                    : strcmp(act, "quarantine") == 0
                                    ? "mail is held, unscanned" : "not a tempfail"),
                   where, CK_VARS("MILTER", u->addr));
    }
}

/* mt_content_timeout - the content time-out of a use, and where from */
static const char *mt_content_timeout(CK *ck, const MT_USE *u, const char **where)
{
    const char *ct = ck_entry_opt(ck, u->entry, "content_timeout");

    if (ct) {
        *where = ck_fmt(ck, "%s, %s", u->where, u->entry);
        return ct;
    }
    *where = mt_where(ck, u->svc, "milter_content_timeout");
    return mt_value(ck, u->svc, "milter_content_timeout");
}

/* ck_milter_content_timeout - rule milter-content-timeout */
void    ck_milter_content_timeout(CK *ck, const CK_RULE *rule)
{
    CK_SETTINGS *set;
    CK_LIST uses = {0};
    const char *ct, *where, *fd;
    long    need;
    size_t  i;

    mt_find(ck, &uses, &set);
    for (i = 0; i < uses.n; i++) {
        const MT_USE *u = uses.v[i];

        ct = mt_content_timeout(ck, u, &where);
        fd = set->smtpd_data_done_timeout ? set->smtpd_data_done_timeout : "300s";
        need = ck_seconds(fd) + CK_MARGIN;
        ck_explain(ck, rule, mt_use_name(ck, u), CK_VARS("VALUE", ct, "FILTER_TIMEOUT", fd));
        if (ck_seconds(ct) >= need) {
            ck_pass(ck, rule, mt_use_name(ck, u), NULL);
            continue;
        }
        ck_finding(ck, rule, ck_fmt(ck, "content time-out %s of postsift's milter %s is "
                                    "shorter than the filter's smtpd_data_done_timeout = %s "
                                    "plus %ds", ct, u->addr, fd, CK_MARGIN),
                   where, CK_VARS("SECONDS", ck_fmt(ck, "%ld", need)));
    }
}

/* mt_postsift_transport - transport name is a content filter of ours */
static int mt_postsift_transport(CK *ck, const char *target)
{
    size_t  len = strcspn(target, ":"), i, j;

    for (i = 0; i < ck->transports.n; i++) {
        const CK_TRANSPORT *t = ck->transports.v[i];

        if (strlen(t->name) != len || strncmp(t->name, target, len) != 0)
            continue;
        if (t->set)
            return 1;
        for (j = 0; j < t->hops.n; j++)
            if (((const CK_FILTER *)t->hops.v[j])->set)
                return 1;
    }
    return 0;
}

/* mt_second_scan - how else svc's mail goes through postsift, or NULL */
static const char *mt_second_scan(CK *ck, const CK_SERVICE *svc)
{
    const char *cf = ck_sv(ck, svc, "content_filter");
    size_t  i;

    if (*cf && mt_postsift_transport(ck, cf))
        return ck_fmt(ck, "content_filter = %s", cf);
    for (i = 0; i < ck->requests.n; i++) {
        const CK_REQUEST *r = ck->requests.v[i];

        if (r->service == svc && r->from_table && mt_postsift_transport(ck, r->target))
            return ck_fmt(ck, "FILTER %s", r->target);
    }
    for (i = 0; i < ck->proxies.n; i++) {
        const CK_PROXY *p = ck->proxies.v[i];

        if (p->svc == svc && p->filter->set)
            return ck_fmt(ck, "smtpd_proxy_filter = %s", p->value);
    }
    return NULL;
}

/* ck_milter_and_content_filter - rule milter-and-content-filter */
void    ck_milter_and_content_filter(CK *ck, const CK_RULE *rule)
{
    CK_SETTINGS *set;
    CK_LIST uses = {0};
    const CK_SERVICE *svc;
    const char *other;
    size_t  i;

    mt_find(ck, &uses, &set);
    for (i = 0; i < uses.n; i++) {
        const MT_USE *u = uses.v[i];

        svc = u->svc ? u->svc : ck_service(ck, "pickup/unix");
        if (svc == NULL)
            continue;
        ck_explain(ck, rule, svc->name, CK_VARS("MILTER", u->addr));
        if ((other = mt_second_scan(ck, svc)) == NULL) {
            ck_pass(ck, rule, svc->name, NULL);
            continue;
        }
        ck_finding(ck, rule, ck_fmt(ck, "mail received by %s goes through postsift's milter "
                                    "%s (%s) and through postsift again (%s)", svc->name,
                                    u->addr, u->param, other),
                   u->svc ? u->where : ck_fmt(ck, "%s, %s", u->where, svc->name),
                   CK_VARS("MILTER", u->addr));
    }
}

/* mt_chrooted - the service runs chrooted (master.cf's chroot field) */
static int mt_chrooted(const CK_SERVICE *svc)
{
    return svc && svc->chroot && strcmp(svc->chroot, "y") == 0;
}

/* ck_milter_not_answering - rule milter-not-answering */
void    ck_milter_not_answering(CK *ck, const CK_RULE *rule)
{
    CK_SETTINGS *set;
    CK_LIST uses = {0}, done = {0};
    VBUF   *why = vbuf_alloc(4096);
    const char *target, *host, *port;
    size_t  i;
    int     rc;

    mt_find(ck, &uses, &set);
    for (i = 0; i < uses.n; i++) {
        const MT_USE *u = uses.v[i];

        if (strncmp(u->addr, "unix:", 5) == 0)
            target = ck_fmt(ck, "unix:%s", mt_unix_path(ck, u->addr + 5, mt_chrooted(u->svc)));
        else if (ck_parse_addr(ck, mt_inet6(ck, u->addr), &host, &port) == 0)
            target = ck_fmt(ck, "[%s]:%s", host, port);
        else
            continue;
        if (ck_list_has(&done, target))
            continue;
        ck_list_add(ck, &done, target);
        ck_explain(ck, rule, u->addr, CK_VARS("MILTER", u->addr));
        vbuf_reset(why);
        if ((rc = ck_milter_probe(ck, u->addr, target, why)) == 0)
            ck_pass(ck, rule, u->addr, vbuf_str(why));
        else if (rc == -2)
            ck_say(ck, "%s: no result in the snapshot's probe file: not checked", u->addr);
        else
            ck_finding(ck, rule, ck_fmt(ck, "postsift's milter %s (%s): %s", u->addr,
                                        mt_use_name(ck, u), rc == 1
                                        ? ck_fmt(ck, "no answer within %ds", CK_MILTER_TIME)
                                        : vbuf_str(why)), u->where,
                       CK_VARS("MILTER", u->addr));
    }
    vbuf_free(why);
}

/* ck_milter_workers - rule milter-workers */
void    ck_milter_workers(CK *ck, const CK_RULE *rule)
{
    CK_SETTINGS *set;
    CK_LIST uses = {0}, names = {0};
    long    sum = 0, workers;
    size_t  i;

    mt_find(ck, &uses, &set);
    for (i = 0; i < uses.n; i++) {
        const MT_USE *u = uses.v[i];

        if (u->svc == NULL || ck_list_has(&names, u->svc->name))
            continue;
        ck_list_add(ck, &names, u->svc->name);
        sum += ck_maxproc(ck, u->svc);
    }
    if (names.n == 0)
        return;
    workers = strtol(set->milter_workers ? set->milter_workers : "100", NULL, 10);
    ck_explain(ck, rule, set->conf, CK_VARS("WORKERS", ck_show(ck, workers),
                                            "SESSIONS", ck_show(ck, sum)));
    if (workers >= sum) {
        ck_pass(ck, rule, set->conf, NULL);
        return;
    }
    ck_finding(ck, rule, ck_fmt(ck, "milter_workers = %ld is below the %s SMTP sessions that "
                                "%s may hold open at once", workers, ck_show(ck, sum),
                                ck_join(ck, &names, ", ")),
               ck_fmt(ck, "%s milter_workers", set->conf),
               CK_VARS("SESSIONS", ck_show(ck, sum), "SERVICES", ck_join(ck, &names, ", ")));
}

/* ck_milter_services - the smtpd services that use postsift's milter (for
   clamd.c's size-limits), once each; its settings in *setp (NULL when no
   milter list is set) */
void    ck_milter_services(CK *ck, CK_LIST *svcs, CK_SETTINGS **setp)
{
    CK_LIST uses = {0};
    size_t  i, j;

    mt_find(ck, &uses, setp);
    for (i = 0; i < uses.n; i++) {
        const MT_USE *u = uses.v[i];

        for (j = 0; u->svc && j < svcs->n && svcs->v[j] != u->svc; j++)
             /* void */ ;
        if (u->svc && j == svcs->n)
            ck_list_add(ck, svcs, u->svc);
    }
}
