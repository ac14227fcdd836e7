/*
 * discover - find the content filters of the instance the way Postfix
 * would use them, for the rules to judge:
 *
 *   requests    main.cf's content_filter, "-o content_filter" of smtpd,
 *               pickup and qmqpd services, and the FILTER actions of the
 *               access tables of smtpd services without smtpd_proxy_filter
 *   transports  each transport a request names: a pipe(8) service is the
 *               simple design, an smtp(8) or lmtp(8) one the scan
 *               transport of the advanced design, its next hops filters
 *   proxies     smtpd services with smtpd_proxy_filter (before the queue)
 *   reinjs      the inet smtpd on the port of each filter's
 *               reinject_target, with what reinjects into it
 *   sendmail    the filters that reinject through sendmail (pickup)
 *   lost, probes  reinject_targets nobody serves, ports to probe
 */
#include <stdlib.h>
#include <string.h>

#include "check/check.h"

/* dc_request - record one content filter request */
static void dc_request(CK *ck, const char *origin, const CK_SERVICE *svc,
                       const char *target, int from_table)
{
    CK_REQUEST *r = ck_alloc(ck, sizeof(*r));

    r->origin = origin;
    r->service = svc;
    r->target = target;
    r->from_table = from_table;
    ck_list_add(ck, &ck->requests, r);
}

/* dc_is_front - a service that can take a content_filter */
static int dc_is_front(const CK_SERVICE *s)
{
    const char *d = ck_daemon(s);

    return strcmp(d, "smtpd") == 0 || strcmp(d, "pickup") == 0 || strcmp(d, "qmqpd") == 0;
}

/* dc_table_requests - the FILTER actions of one smtpd's access tables */
static void dc_table_requests(CK *ck, const CK_SERVICE *s)
{
    CK_LIST items = {0};
    const CK_LIST *f;
    size_t  i, j;

    ck_restrictions(ck, s, &items);
    for (i = 0; i < items.n; i++) {
        const CK_ITEM *it = items.v[i];

        if (strcmp(it->restriction, "check_policy_service") == 0
            || (f = ck_table_filters(ck, it->table)) == NULL)
            continue;
        for (j = 0; j < f->n; j++)
            dc_request(ck, ck_fmt(ck, "FILTER in %s (%s %s)", it->table, s->name, it->param),
                       s, f->v[j], 1);
    }
}

/* dc_requests - every content filter request */
static void dc_requests(CK *ck)
{
    const char *v;
    size_t  i;

    if (*ck_main(ck, "content_filter") && ck_map_get(&ck->mset, "content_filter"))
        dc_request(ck, "main.cf content_filter", NULL, ck_main(ck, "content_filter"), 0);
    for (i = 0; i < ck->services.n; i++) {
        const CK_SERVICE *s = ck->services.v[i];

        if (dc_is_front(s)
            && (v = ck_map_get(&ck->params, ck_fmt(ck, "%s/content_filter", s->name))) && *v)
            dc_request(ck, ck_fmt(ck, "master.cf %s -o content_filter", s->name), s, v, 0);
    }
    for (i = 0; i < ck->services.n; i++) {
        const CK_SERVICE *s = ck->services.v[i];

        /* smtpd ignores FILTER with smtpd_proxy_filter (proxy-filter-action) */
        if (strcmp(ck_daemon(s), "smtpd") == 0 && *ck_sv(ck, s, "smtpd_proxy_filter") == 0)
            dc_table_requests(ck, s);
    }
}

/* dc_reinj - the record of a reinjection service, made on first use */
static CK_REINJ *dc_reinj(CK *ck, const CK_SERVICE *svc)
{
    CK_REINJ *r;
    size_t  i;

    for (i = 0; i < ck->reinjs.n; i++)
        if ((r = ck->reinjs.v[i])->svc == svc)
            return r;
    r = ck_alloc(ck, sizeof(*r));
    r->svc = svc;
    ck_list_add(ck, &ck->reinjs, r);
    return r;
}

/* dc_reinjects - record where a filter (what, with its settings) sends
   mail back */
static void dc_reinjects(CK *ck, const CK_SETTINGS *set, const char *what, long conc,
                         int after_queue, int xforward)
{
    const char *target = set ? set->reinject_target : "", *host, *port;
    const CK_SERVICE *svc;
    CK_REINJ *r;
    CK_LOST *lost;

    if (strcmp(target, "sendmail") == 0) {
        if (!ck_list_has(&ck->sendmail, what))
            ck_list_add(ck, &ck->sendmail, what);
        ck_say(ck, "%s reinjects with sendmail (pickup)", what);
        return;
    }
    if (ck_parse_addr(ck, target, &host, &port) < 0) {
        ck_say(ck, "%s reinjects to %s: not checked", what, *target ? target : "(unknown)");
        return;
    }
    if ((svc = ck_inet_service(ck, port)) == NULL) {
        if (!ck_is_loopback(host)) {
            ck_say(ck, "%s reinjects to %s, another host: not checked", what, target);
            return;
        }
        lost = ck_alloc(ck, sizeof(*lost));
        lost->what = what;
        lost->target = target;
        lost->port = port;
        ck_list_add(ck, &ck->lost, lost);
        return;
    }
    ck_say(ck, "%s reinjects to %s", what, svc->name);
    r = dc_reinj(ck, svc);
    ck_list_add(ck, &r->from, what);
    r->conc += conc;
    r->after_queue |= after_queue;
    if (xforward)
        ck_list_add(ck, &r->xforward, what);
}

/* dc_probe - a port to probe */
static void dc_probe(CK *ck, const char *what, const char *host, const char *port)
{
    CK_PROBE *p = ck_alloc(ck, sizeof(*p));

    p->what = what;
    p->host = host;
    p->port = port;
    ck_list_add(ck, &ck->probes, p);
}

/* dc_filter - the SMTP filter on host:port: a spawn(8) service there, or
   the postsift-filter daemon; its settings and concurrency */
static CK_FILTER *dc_filter(CK *ck, const char *what, const char *host, const char *port)
{
    CK_FILTER *f = ck_alloc(ck, sizeof(*f));
    const CK_SERVICE *svc = ck_inet_service(ck, port);
    const char *key = ck_fmt(ck, "smtp:%s:%s", host, port);
    long    n;

    f->what = what;
    f->host = host;
    f->port = port;
    if (svc && strcmp(ck_daemon(svc), "spawn") == 0) {
        f->desc = ck_fmt(ck, "spawn(8) service %s", svc->name);
        f->conc = ck_maxproc(ck, svc);
        if ((f->set = ck_argv_settings(ck, key, svc)) == NULL)
            ck_say(ck, "%s does not run postsift-filter: settings not checked", svc->name);
    } else {
        f->desc = svc ? ck_fmt(ck, "%s (%s) on %s:%s", svc->name, ck_daemon(svc), host, port)
            : ck_fmt(ck, "the postsift-filter daemon on %s:%s", host, port);
        f->set = ck_daemon_settings(ck, key);
        n = strtol(f->set->smtpd_workers, NULL, 10);
        f->conc = n > 0 ? n : 8;
    }
    ck_say(ck, "%s: %s, concurrency %s", what, f->desc, ck_show(ck, f->conc));
    return f;
}

/* dc_pipe - a pipe(8) transport: its filter's settings and reinjection */
static void dc_pipe(CK *ck, CK_TRANSPORT *t)
{
    CK_LIST argv = {0};

    ck_say(ck, "filter transport %s: pipe(8), concurrency %s", t->svc->name,
           ck_show(ck, t->conc));
    if ((t->set = ck_argv_settings(ck, ck_fmt(ck, "pipe:%s", t->svc->name), t->svc)) != NULL) {
        dc_reinjects(ck, t->set, ck_fmt(ck, "pipe service %s", t->svc->name), t->conc, 1, 1);
        return;
    }
    ck_argv(ck, t->svc, &argv);
    if (strstr(ck_join(ck, &argv, " "), "sendmail")) {
        ck_list_add(ck, &ck->sendmail, ck_fmt(ck, "pipe service %s", t->svc->name));
        ck_say(ck, "%s: a filter that reinjects with sendmail (pickup)", t->svc->name);
    } else {
        ck_say(ck, "%s: not postsift-filter and no sendmail in argv: reinjection not known",
               t->svc->name);
    }
}

/* dc_scan - an smtp(8)/lmtp(8) transport: one filter per next hop */
static void dc_scan(CK *ck, CK_TRANSPORT *t)
{
    const char *xf = ck_sv(ck, t->svc, ck_fmt(ck, "%s_send_xforward_command", t->daemon));
    const char *host, *port, *nh;
    size_t  i, len = strlen(t->name);
    CK_LIST hops = {0};

    ck_say(ck, "filter transport %s: %s(8), concurrency %s, XFORWARD %s", t->svc->name,
           t->daemon, ck_show(ck, t->conc), xf);
    for (i = 0; i < ck->requests.n; i++) {
        const CK_REQUEST *r = ck->requests.v[i];

        if (strncmp(r->target, t->name, len) == 0 && r->target[len] == ':'
            && !ck_list_has(&hops, r->target + len + 1))
            ck_list_add(ck, &hops, r->target + len + 1);
    }
    for (i = 0; i < hops.n; i++) {
        CK_FILTER *f;

        nh = hops.v[i];
        if (ck_parse_addr(ck, nh, &host, &port) < 0) {
            ck_say(ck, "%s: next hop %s not checked", t->svc->name, nh);
            continue;
        }
        f = dc_filter(ck, ck_fmt(ck, "%s -> %s", t->svc->name, nh), host, port);
        ck_list_add(ck, &t->hops, f);
        dc_probe(ck, f->what, host, port);
        dc_reinjects(ck, f->set, f->desc, t->conc < f->conc ? t->conc : f->conc, 1,
                     strcmp(xf, "yes") == 0);
    }
}

/* dc_transport - the transport name of a request, once */
static void dc_transport(CK *ck, const CK_REQUEST *r)
{
    const char *name = ck_strn(ck, r->target, strcspn(r->target, ":"));
    CK_TRANSPORT *t;
    long    dl;
    size_t  i;

    for (i = 0; i < ck->transports.n; i++)
        if (strcmp(((CK_TRANSPORT *) ck->transports.v[i])->name, name) == 0)
            return;
    t = ck_alloc(ck, sizeof(*t));
    t->name = name;
    t->origin = r->origin;
    ck_list_add(ck, &ck->transports, t);
    if ((t->svc = ck_service(ck, ck_fmt(ck, "%s/unix", name))) == NULL)
        return;
    t->daemon = ck_daemon(t->svc);
    t->conc = ck_maxproc(ck, t->svc);
    if ((dl = ck_dest_limit(ck, name, "concurrency")) < t->conc)
        t->conc = dl;
    if (strcmp(t->daemon, "pipe") == 0)
        dc_pipe(ck, t);
    else if (strcmp(t->daemon, "smtp") == 0 || strcmp(t->daemon, "lmtp") == 0)
        dc_scan(ck, t);
    else
        ck_say(ck, "transport %s runs %s: not a filter, not checked", t->svc->name, t->daemon);
}

/* dc_is_reinj - a service that filters reinject into */
static int dc_is_reinj(CK *ck, const CK_SERVICE *s)
{
    size_t  i;

    for (i = 0; i < ck->reinjs.n; i++)
        if (((CK_REINJ *) ck->reinjs.v[i])->svc == s)
            return 1;
    return 0;
}

/* dc_proxy - an smtpd with smtpd_proxy_filter, unless it is where its
   own filter reinjects (then it is judged as a reinjection smtpd) */
static void dc_proxy(CK *ck, const CK_SERVICE *s)
{
    const char *pf = ck_sv(ck, s, "smtpd_proxy_filter"), *host, *port, *h2, *p2;
    CK_PROXY *px;
    CK_FILTER *f;
    long    conc;

    if (ck_parse_addr(ck, pf, &host, &port) < 0) {
        ck_say(ck, "%s: smtpd_proxy_filter = %s not checked", s->name, pf);
        return;
    }
    f = dc_filter(ck, ck_fmt(ck, "%s -> smtpd_proxy_filter %s", s->name, pf), host, port);
    if (f->set && ck_parse_addr(ck, f->set->reinject_target, &h2, &p2) == 0
        && ck_inet_service(ck, p2) == s)
        return;
    px = ck_alloc(ck, sizeof(*px));
    px->svc = s;
    px->value = pf;
    px->filter = f;
    ck_list_add(ck, &ck->proxies, px);
    dc_probe(ck, f->what, host, port);
    conc = ck_maxproc(ck, s);
    dc_reinjects(ck, f->set, f->desc, conc < f->conc ? conc : f->conc, 0, 1);
}

/* ck_discover - find the filters, after the queue and before it */
void    ck_discover(CK *ck)
{
    size_t  i, n;

    dc_requests(ck);
    for (i = 0, n = ck->requests.n; i < n; i++)
        dc_transport(ck, ck->requests.v[i]);
    for (i = 0; i < ck->services.n; i++) {
        const CK_SERVICE *s = ck->services.v[i];

        if (strcmp(ck_daemon(s), "smtpd") == 0 && *ck_sv(ck, s, "smtpd_proxy_filter")
            && !dc_is_reinj(ck, s))
            dc_proxy(ck, s);
    }
}

/* ck_mapped_before - some way into a filter applies the address mappings
   (its service lacks no_address_mappings, as --only leaves the listening
   smtpd): the reinjection smtpd may then skip them */
int     ck_mapped_before(CK *ck)
{
    size_t  i;

    for (i = 0; i < ck->requests.n; i++) {
        const CK_REQUEST *r = ck->requests.v[i];
        const char *ro = r->service ? ck_sv(ck, r->service, "receive_override_options")
            : ck_main(ck, "receive_override_options");

        if (!ck_has_opt(ro, "no_address_mappings"))
            return 1;
    }
    return 0;
}
