/*
 * policy - the rules about postsift-policy as a policy service: the
 * check_policy_service entries of each smtpd service's restriction
 * lists (its own -o, else main.cf's) that name it.
 *
 * A use is postsift's when its address is unix:private/NAME (or
 * private/NAME, or a path in queue_directory) and master.cf's NAME/unix
 * is a spawn(8) service that runs postsift-policy, or NAME has
 * "postsift" in it (a service install made and that is gone since); or
 * when it is an inet: address that is postsift.conf's policy_listen.
 * Per-service settings in braces ({ inet:..., timeout=10s }) win over
 * main.cf's smtpd_policy_service_* parameters, as in Postfix.
 * Restriction classes are not looked into.
 */
#include <string.h>

#include "check/check.h"

/* Postfix 3.7's defaults, for a snapshot without postconf-x */
static const char *const pl_defaults[][2] = {
    {"command_time_limit", "1000s"},
    {"queue_directory", "/var/spool/postfix"},
    {"smtpd_policy_service_max_ttl", "1000s"},
    {"smtpd_policy_service_timeout", "100s"},
};

/* the restrictions that end the evaluation of a list for some clients */
static const char *const pl_permits[] = {
    "permit", "permit_mynetworks", "permit_sasl_authenticated", "permit_auth_destination",
    "permit_tls_clientcerts", "permit_tls_all_clientcerts", "permit_inet_interfaces",
    "permit_mx_backup", "permit_dnswl_client", "permit_rhswl_client", "permit_naked_ip_address",
    NULL,
};

/* One check_policy_service entry that names postsift-policy. */
typedef struct PL_USE {
    const CK_SERVICE *svc;      /* the smtpd */
    const char *param;          /* smtpd_recipient_restrictions, ... */
    const char *entry;          /* the argument, braces and all */
    const char *addr;           /* its address */
    const char *where;          /* where the list is set */
    const char *permit;         /* a permit before it in the list, or NULL */
    const char *spawn_name;     /* NAME of unix:private/NAME, or NULL */
    const CK_SERVICE *spawn;    /* NAME/unix, NULL when master.cf lacks it */
    CK_SETTINGS *set;           /* postsift-policy's settings */
} PL_USE;

/* pl_value - a parameter as svc (NULL: main.cf) sees it, else Postfix's
   default */
static const char *pl_value(CK *ck, const CK_SERVICE *svc, const char *name)
{
    const char *v = svc ? ck_sv(ck, svc, name) : ck_main(ck, name);
    size_t  i;

    for (i = 0; *v == 0 && i < sizeof(pl_defaults) / sizeof(pl_defaults[0]); i++)
        if (strcmp(pl_defaults[i][0], name) == 0)
            v = pl_defaults[i][1];
    return v;
}

/* pl_private_name - NAME of a unix socket in queue_directory/private,
   NULL for other addresses */
static const char *pl_private_name(CK *ck, const char *addr)
{
    const char *q = pl_value(ck, NULL, "queue_directory");
    const char *p = strncmp(addr, "unix:", 5) == 0 ? addr + 5 : addr;
    size_t  qlen = strlen(q);

    if (strncmp(p, q, qlen) == 0 && p[qlen] == '/')
        p += qlen + 1;
    if (strncmp(p, "private/", 8) != 0 || p[8] == 0 || strchr(p + 8, '/'))
        return NULL;
    return p + 8;
}

/* pl_inet_ours - an inet address is one of policy_listen's */
static int pl_inet_ours(CK *ck, const char *addr, const CK_SETTINGS *set)
{
    CK_LIST listen = {0};
    const char *h1, *p1, *h2, *p2;
    size_t  i;

    if (ck_parse_addr(ck, addr, &h1, &p1) < 0)
        return 0;
    ck_list_split(ck, &listen, set->policy_listen ? set->policy_listen : "");
    for (i = 0; i < listen.n; i++) {
        if (ck_parse_addr(ck, listen.v[i], &h2, &p2) < 0 || strcmp(p1, p2) != 0)
            continue;
        if (strcmp(h1, h2) == 0 || (ck_is_loopback(h1) && ck_is_loopback(h2))
            || strcmp(h2, "0.0.0.0") == 0 || strcmp(h2, "*") == 0 || strcmp(h2, "::") == 0)
            return 1;
    }
    return 0;
}

/* pl_ours - fill in whose the use is; 1 when it is postsift-policy's */
static int pl_ours(CK *ck, PL_USE *u)
{
    if ((u->spawn_name = pl_private_name(ck, u->addr)) != NULL) {
        u->spawn = ck_service(ck, ck_fmt(ck, "%s/unix", u->spawn_name));
        if (u->spawn && strcmp(ck_daemon(u->spawn), "spawn") == 0)
            u->set = ck_policy_settings(ck, ck_fmt(ck, "policy:%s", u->spawn_name), u->spawn);
        else if (u->spawn == NULL && strstr(u->spawn_name, "postsift"))
            u->set = ck_daemon_settings(ck, "policy");
        return u->set != NULL;
    }
    if (strncmp(u->addr, "inet:", 5) != 0)
        return 0;
    u->set = ck_daemon_settings(ck, "policy");
    return pl_inet_ours(ck, u->addr, u->set);
}

/* pl_is_permit - a restriction that ends the list for some clients */
static int pl_is_permit(const char *w)
{
    int     i;

    for (i = 0; pl_permits[i]; i++)
        if (strcmp(pl_permits[i], w) == 0)
            return 1;
    return 0;
}

/* pl_list_uses - the uses of postsift-policy in one restriction list */
static void pl_list_uses(CK *ck, CK_LIST *uses, const CK_SERVICE *svc, const char *param)
{
    CK_LIST list = {0};
    const char *permit = NULL;
    size_t  i;

    ck_list_split(ck, &list, ck_sv(ck, svc, param));
    for (i = 0; i < list.n; i++) {
        PL_USE *u;

        if (permit == NULL && pl_is_permit(list.v[i]))
            permit = list.v[i];
        if (strcmp(list.v[i], "check_policy_service") != 0 || i + 1 >= list.n)
            continue;
        u = ck_alloc(ck, sizeof(*u));
        u->svc = svc;
        u->param = param;
        u->entry = list.v[++i];
        u->addr = ck_entry_addr(ck, u->entry);
        u->where = ck_sv_where(ck, svc, param);
        u->permit = permit;
        if (pl_ours(ck, u))
            ck_list_add(ck, uses, u);
    }
}

/* pl_find - every use of postsift-policy by an smtpd service */
static void pl_find(CK *ck, CK_LIST *uses)
{
    size_t  i;
    int     p;

    for (i = 0; i < ck->services.n; i++) {
        const CK_SERVICE *s = ck->services.v[i];

        if (strcmp(ck_daemon(s), "smtpd") != 0)
            continue;
        for (p = 0; ck_restriction_lists[p]; p++)
            pl_list_uses(ck, uses, s, ck_restriction_lists[p]);
    }
}

/* pl_use_name - a use for -v: "smtp/inet smtpd_recipient_restrictions" */
static const char *pl_use_name(CK *ck, const PL_USE *u)
{
    return ck_fmt(ck, "%s %s", u->svc->name, u->param);
}

/* pl_probe_target - where the check connects to an inet use */
static const char *pl_probe_target(CK *ck, const char *addr)
{
    const char *host, *port;

    if (ck_parse_addr(ck, addr, &host, &port) < 0)
        return NULL;
    return ck_fmt(ck, "[%s]:%s", host, port);
}

/* pl_missing_one - policy-missing for one use; the reason, or NULL */
static const char *pl_missing_one(CK *ck, const CK_RULE *rule, const PL_USE *u, VBUF *why)
{
    const char *target;
    int     rc;

    if (u->spawn_name) {
        if (u->spawn == NULL)
            return ck_fmt(ck, "master.cf has no %s/unix service", u->spawn_name);
        ck_pass(ck, rule, u->addr, ck_fmt(ck, "%s/unix runs postsift-policy", u->spawn_name));
        return NULL;
    }
    if ((target = pl_probe_target(ck, u->addr)) == NULL)
        return NULL;
    vbuf_reset(why);
    if ((rc = ck_policy_probe(ck, u->addr, target, why)) == 0) {
        ck_pass(ck, rule, u->addr, vbuf_str(why));
        return NULL;
    }
    if (rc == -2) {
        ck_say(ck, "%s: no result in the snapshot's probe file: not checked", u->addr);
        return NULL;
    }
    return rc == 1 ? ck_fmt(ck, "no answer within %ds", CK_POLICY_TIME) : vbuf_str(why);
}

/* ck_policy_missing - rule policy-missing */
void    ck_policy_missing(CK *ck, const CK_RULE *rule)
{
    CK_LIST uses = {0}, done = {0};
    VBUF   *why = vbuf_alloc(4096);
    const char *bad;
    size_t  i;

    pl_find(ck, &uses);
    for (i = 0; i < uses.n; i++) {
        const PL_USE *u = uses.v[i];

        if (ck_list_has(&done, u->addr))
            continue;
        ck_list_add(ck, &done, u->addr);
        ck_explain(ck, rule, u->addr, CK_VARS("ADDR", u->addr));
        if ((bad = pl_missing_one(ck, rule, u, why)) != NULL)
            ck_finding(ck, rule, ck_fmt(ck, "check_policy_service %s (%s): %s", u->addr,
                                        pl_use_name(ck, u), bad),
                       ck_fmt(ck, "%s, check_policy_service %s", u->where, u->addr),
                       CK_VARS("ADDR", u->addr));
    }
    vbuf_free(why);
}

/* pl_need - the seconds postsift-policy may take for one answer */
static long pl_need(const CK_SETTINGS *set)
{
    return ck_seconds(set->policy_timeout ? set->policy_timeout : "10s")
        + ck_seconds(set->policy_command_timeout ? set->policy_command_timeout : "5s")
        + 2 * ck_seconds(set->policy_store_timeout ? set->policy_store_timeout : "1s");
}

/* pl_timeout_one - Postfix's time limit for one use's answer */
static void pl_timeout_one(CK *ck, const CK_RULE *rule, const PL_USE *u)
{
    const char *t = ck_entry_opt(ck, u->entry, "timeout"), *where;
    long    need = pl_need(u->set);

    if (t) {
        where = ck_fmt(ck, "%s, %s", u->where, u->entry);
    } else {
        t = pl_value(ck, u->svc, "smtpd_policy_service_timeout");
        where = ck_sv_where(ck, u->svc, "smtpd_policy_service_timeout");
    }
    ck_explain(ck, rule, pl_use_name(ck, u), CK_VARS("ADDR", u->addr, "VALUE", t,
                                                      "NEED", ck_fmt(ck, "%ld", need)));
    if (ck_seconds(t) > need) {
        ck_pass(ck, rule, pl_use_name(ck, u), NULL);
        return;
    }
    ck_finding(ck, rule, ck_fmt(ck, "time-out %s of check_policy_service %s is not above the "
                                "%lds postsift-policy may take (policy_timeout %s + "
                                "policy_command_timeout %s + 2 x policy_store_timeout %s)",
                                t, u->addr, need, u->set->policy_timeout,
                                u->set->policy_command_timeout, u->set->policy_store_timeout),
               where, CK_VARS("ADDR", u->addr, "SETTING",
                              ck_fmt(ck, "timeout=%lds in the { } settings of %s", need + 10,
                                     u->addr)));
}

/* pl_time_limit - spawn(8)'s time limit of the service, and where from */
static const char *pl_time_limit(CK *ck, const PL_USE *u, const char **where)
{
    const char *own = ck_fmt(ck, "%s_time_limit", u->spawn_name);

    if (ck_sv_own(ck, u->spawn, own)) {
        *where = ck_fmt(ck, "master.cf %s -o %s", u->spawn->name, own);
        return ck_sv(ck, u->spawn, own);
    }
    if (ck_map_get(&ck->mset, own)) {
        *where = ck_fmt(ck, "main.cf %s", own);
        return ck_main(ck, own);
    }
    *where = ck_fmt(ck, "command_time_limit (no %s)", own);
    return pl_value(ck, u->spawn, "command_time_limit");
}

/* pl_spawn_limit_one - spawn(8) must not kill a postsift-policy that
   Postfix may still use, or that waits for its next request */
static void pl_spawn_limit_one(CK *ck, const CK_RULE *rule, const PL_USE *u)
{
    const char *tl, *where, *ttl = ck_entry_opt(ck, u->entry, "max_ttl");
    const char *idle = u->set->policy_idle_timeout ? u->set->policy_idle_timeout : "600s";
    long    need;

    if (ttl == NULL)
        ttl = pl_value(ck, u->svc, "smtpd_policy_service_max_ttl");
    need = (ck_seconds(ttl) > ck_seconds(idle) ? ck_seconds(ttl) : ck_seconds(idle)) + CK_MARGIN;
    tl = pl_time_limit(ck, u, &where);
    ck_explain(ck, rule, u->spawn->name, CK_VARS("ADDR", u->addr, "VALUE", tl,
                                                  "NEED", ck_fmt(ck, "%ld", need)));
    if (ck_seconds(tl) >= need) {
        ck_pass(ck, rule, u->spawn->name, NULL);
        return;
    }
    ck_finding(ck, rule, ck_fmt(ck, "time limit %s of spawn(8) service %s is below the %lds "
                                "a connection may last (max_ttl %s or policy_idle_timeout %s, "
                                "plus %ds)", tl, u->spawn->name, need, ttl, idle, CK_MARGIN),
               where, CK_VARS("ADDR", u->addr, "SETTING",
                              ck_fmt(ck, "%s_time_limit = %lds or more in main.cf",
                                     u->spawn_name, need > 3600 ? need : 3600L)));
}

/* ck_policy_timeout - rule policy-timeout */
void    ck_policy_timeout(CK *ck, const CK_RULE *rule)
{
    CK_LIST uses = {0}, spawns = {0};
    size_t  i;

    pl_find(ck, &uses);
    for (i = 0; i < uses.n; i++) {
        const PL_USE *u = uses.v[i];

        pl_timeout_one(ck, rule, u);
        if (u->spawn == NULL || ck_list_has(&spawns, u->spawn->name))
            continue;
        ck_list_add(ck, &spawns, u->spawn->name);
        pl_spawn_limit_one(ck, rule, u);
    }
}

/* ck_policy_after_permit - rule policy-after-permit */
void    ck_policy_after_permit(CK *ck, const CK_RULE *rule)
{
    CK_LIST uses = {0};
    size_t  i;

    pl_find(ck, &uses);
    for (i = 0; i < uses.n; i++) {
        const PL_USE *u = uses.v[i];

        ck_explain(ck, rule, pl_use_name(ck, u), CK_VARS("ADDR", u->addr, "PARAM", u->param));
        if (u->permit == NULL) {
            ck_pass(ck, rule, pl_use_name(ck, u), NULL);
            continue;
        }
        ck_finding(ck, rule, ck_fmt(ck, "%s in %s of %s comes before check_policy_service %s: "
                                    "postsift-policy is not asked about the clients it lets "
                                    "through", u->permit, u->param, u->svc->name, u->addr),
                   ck_fmt(ck, "%s, check_policy_service %s", u->where, u->addr),
                   CK_VARS("ADDR", u->addr, "PERMIT", u->permit,
                                     "PARAM", u->param));
    }
}
