/*
 * clamd - the rules about the clamd servers that postsift's scanner
 * setting names (clamd:unix:/path, clamd:inet:host:port), judged by the
 * clamd.conf that serves each, and the rule that compares postsift's
 * message_size_limit with Postfix's in every design (size-limits):
 * what each way in (the smtpd or pickup that a content filter, proxy
 * filter or milter serves) accepts, against what postsift scans, and
 * what reaches the reinjection smtpd, against what it takes.
 *
 * Which clamd.conf: --clamd-conf FILE when given; with --snapshot the
 * snapshot's file clamd.conf; else, of the files in the usual places
 * (Debian's /etc/clamav/clamd.conf, /etc/clamd.conf,
 * /etc/clamd.d/NAME.conf, /usr/local/etc), the one whose LocalSocket
 * (unix:) or TCPSocket (inet:) is the server's: a file with another
 * socket belongs to another clamd. A server without a file is not
 * judged (-v says so).
 *
 * The file is read as clamd reads it: "Option value" lines, a # at the
 * start of a line a comment, booleans yes/no, true/false, 1/0, sizes in
 * bytes or with K or M. An option that is absent has ClamAV's default
 * (clamd.conf(5) of ClamAV 1.4: StreamMaxLength 100M, MaxFileSize
 * 100M, MaxScanSize 400M, every Alert* no).
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check/check.h"
#include "lib/config.h"

#define CD_PF_SIZE  "10240000"  /* Postfix's default message_size_limit */
#define CD_LINE     4096        /* clamd's own lines are shorter */

/* ClamAV 1.4's defaults for the options the rules read */
static const char *const cd_defaults[][2] = {
    {"StreamMaxLength", "100M"},
    {"MaxFileSize", "100M"},
    {"MaxScanSize", "400M"},
    {"AlertEncrypted", "no"},
    {"AlertEncryptedArchive", "no"},
    {"AlertEncryptedDoc", "no"},
    {"AlertExceedsMax", "no"},
};

/* the places a live run looks for clamd.conf (globs) */
static const char *const cd_places[] = {
    "/etc/clamav/clamd.conf", "/etc/clamd.conf", "/etc/clamd.d/*.conf",
    "/usr/local/etc/clamd.conf", "/usr/local/etc/clamav/clamd.conf", NULL,
};

/* One clamd.conf, read. */
typedef struct CD_CONF {
    const char *path;
    CK_MAP      opts;           /* the last value of each option */
} CD_CONF;

/* One clamd server of a filter's scanner setting, and its clamd.conf. */
typedef struct CD_USE {
    const CK_SETTINGS *set;
    const char *server;         /* "unix:/path", "inet:host:port" */
    CD_CONF    *conf;
    long long   limit;          /* postsift's message_size_limit, -1: none */
} CD_USE;

/* ck_clamd_size - bytes of a clamd SIZE ("25M", "512K", "1000"); -1 when
   it is not one */
long long ck_clamd_size(const char *value)
{
    size_t  n = strspn(value, "0123456789");
    long long v;

    if (n == 0 || n > 15 || (value[n] && (value[n + 1] || !strchr("kKmM", value[n]))))
        return -1;
    v = strtoll(value, NULL, 10);
    if (value[n] == 'k' || value[n] == 'K')
        v *= 1024;
    else if (value[n])
        v *= 1024 * 1024;
    return v;
}

/* ck_clamd_bool - 1, 0, or -1 when value is not a clamd BOOL */
int     ck_clamd_bool(const char *value)
{
    if (strcasecmp(value, "yes") == 0 || strcasecmp(value, "true") == 0
        || strcmp(value, "1") == 0)
        return 1;
    if (strcasecmp(value, "no") == 0 || strcasecmp(value, "false") == 0
        || strcmp(value, "0") == 0)
        return 0;
    return -1;
}

/* cd_line - one line of clamd.conf into conf */
static void cd_line(CK *ck, CD_CONF *conf, char *line)
{
    char   *name = line + strspn(line, " \t"), *value;
    size_t  len;

    line[strcspn(line, "\r\n")] = 0;
    if (*name == 0 || *name == '#')
        return;
    len = strcspn(name, " \t");
    value = name + len;
    value += strspn(value, " \t");
    while (*value && strchr(" \t", value[strlen(value) - 1]))
        value[strlen(value) - 1] = 0;
    ck_map_set(ck, &conf->opts, ck_strn(ck, name, len), ck_str(ck, value));
}

/* cd_read - the clamd.conf at path (read once), NULL when unreadable */
static CD_CONF *cd_read(CK *ck, const char *path)
{
    CD_CONF *conf;
    FILE   *fp;
    char    line[CD_LINE];
    size_t  i;

    for (i = 0; i < ck->clamd_confs.n; i++)
        if (strcmp(((CD_CONF *) ck->clamd_confs.v[i])->path, path) == 0)
            return ck->clamd_confs.v[i];
    if ((fp = fopen(path, "r")) == NULL)
        return NULL;
    conf = ck_alloc(ck, sizeof(*conf));
    conf->path = ck_str(ck, path);
    while (fgets(line, sizeof(line), fp) != NULL)
        cd_line(ck, conf, line);
    fclose(fp);
    if (ck_map_get(&conf->opts, "Example"))
        ck_say(ck, "%s: has the line Example, with which clamd does not start", path);
    ck_list_add(ck, &ck->clamd_confs, conf);
    return conf;
}

/* cd_get - an option's value, ClamAV's default when the file lacks it;
   *dflt set when it is the default */
static const char *cd_get(const CD_CONF *conf, const char *name, int *dflt)
{
    const char *v = ck_map_get(&conf->opts, name);
    size_t  i;

    *dflt = v == NULL;
    for (i = 0; v == NULL && i < sizeof(cd_defaults) / sizeof(cd_defaults[0]); i++)
        if (strcmp(cd_defaults[i][0], name) == 0)
            v = cd_defaults[i][1];
    return v ? v : "";
}

/* cd_show - "StreamMaxLength 25M" or "StreamMaxLength 100M (default)" */
static const char *cd_show(CK *ck, const CD_CONF *conf, const char *name)
{
    int     dflt;
    const char *v = cd_get(conf, name, &dflt);

    return ck_fmt(ck, "%s %s%s", name, v, dflt ? " (the default)" : "");
}

/* cd_where - where a finding about name points: the file and option */
static const char *cd_where(CK *ck, const CD_CONF *conf, const char *name)
{
    return ck_fmt(ck, "%s %s", conf->path, name);
}

/* cd_found - every clamd.conf this run can see */
static void cd_found(CK *ck, CK_LIST *confs)
{
    glob_t  g;
    CD_CONF *c;
    size_t  i, j;

    if (ck->opts->clamd_conf || ck->opts->snapshot) {
        if ((c = cd_read(ck, ck->opts->clamd_conf ? ck->opts->clamd_conf
                         : postconf_snap_path(ck, "clamd.conf"))) != NULL)
            ck_list_add(ck, confs, c);
        return;
    }
    for (i = 0; cd_places[i]; i++) {
        if (glob(cd_places[i], 0, NULL, &g) != 0)
            continue;
        for (j = 0; j < g.gl_pathc; j++)
            if ((c = cd_read(ck, g.gl_pathv[j])) != NULL)
                ck_list_add(ck, confs, c);
        globfree(&g);
    }
}

/* cd_same_path - two socket paths, /var/run and /run taken as one */
static int cd_same_path(const char *a, const char *b)
{
    if (strncmp(a, "/var/run/", 9) == 0)
        a += 4;
    if (strncmp(b, "/var/run/", 9) == 0)
        b += 4;
    return strcmp(a, b) == 0;
}

/* cd_serves - conf is the clamd of server */
static int cd_serves(CK *ck, const CD_CONF *conf, const char *server)
{
    const char *v, *host, *port;

    if (strncmp(server, "unix:", 5) == 0)
        return (v = ck_map_get(&conf->opts, "LocalSocket")) != NULL
            && cd_same_path(v, server + 5);
    if (strncmp(server, "inet:", 5) != 0 || ck_parse_addr(ck, server + 5, &host, &port) < 0)
        return 0;
    return (v = ck_map_get(&conf->opts, "TCPSocket")) != NULL && strcmp(v, port) == 0;
}

/* cd_conf_of - the clamd.conf of server, NULL when none is known: the
   file named (--clamd-conf, the snapshot's) as it is, a file found only
   when its socket is the server's (else it is another clamd's) */
static CD_CONF *cd_conf_of(CK *ck, const CK_LIST *confs, const char *server)
{
    size_t  i;

    if (confs->n == 1 && (ck->opts->clamd_conf || ck->opts->snapshot))
        return confs->v[0];
    for (i = 0; i < confs->n; i++)
        if (cd_serves(ck, confs->v[i], server))
            return confs->v[i];
    return NULL;
}

/* cd_limit - a postsift size setting in bytes, -1 for 0 (no limit) */
static long long cd_limit(const char *value)
{
    long    n = 0;

    if (value == NULL || config_parse_size(value, &n) < 0)
        n = 52428800;
    return n > 0 ? (long long)n : -1;
}

/* cd_add_uses - the clamd servers of one filter's scanner setting */
static void cd_add_uses(CK *ck, CK_LIST *uses, const CK_LIST *confs, const CK_SETTINGS *set)
{
    CK_LIST items = {0};
    CD_USE *u;
    size_t  i;

    ck_list_split(ck, &items, set->scanner ? set->scanner : "");
    for (i = 0; i < items.n; i++) {
        const char *it = items.v[i];

        if (strncmp(it, "clamd:", 6) != 0)
            continue;
        u = ck_alloc(ck, sizeof(*u));
        u->set = set;
        u->server = it + 6;
        u->limit = cd_limit(set->message_size_limit);
        if ((u->conf = cd_conf_of(ck, confs, u->server)) == NULL)
            ck_say(ck, "%s: scanner clamd %s: %s: not checked", set->conf, u->server,
                   confs->n ? "no clamd.conf found has its LocalSocket or TCPSocket (give "
                   "--clamd-conf)"
                   : "no clamd.conf found (give --clamd-conf)");
        else
            ck_list_add(ck, uses, u);
    }
}

/* cd_uses - every clamd server of every filter's settings, with its
   clamd.conf (postsift-policy's settings have no scanner) */
static void cd_uses(CK *ck, CK_LIST *uses)
{
    CK_LIST confs = {0};
    size_t  i;
    int     looked = 0;

    for (i = 0; i < ck->settings.n; i++) {
        const CK_SETTINGS *s = ck->settings.v[i];

        if (strncmp(s->key, "policy", 6) == 0 || s->scanner == NULL
            || strstr(s->scanner, "clamd:") == NULL)
            continue;
        if (!looked++)
            cd_found(ck, &confs);
        cd_add_uses(ck, uses, &confs, s);
    }
}

/* cd_bytes - a size for a finding: "26214400 bytes (25M)" */
static const char *cd_bytes(CK *ck, long long n)
{
    if (n < 0)
        return "no limit";
    if (n % (1024 * 1024) == 0)
        return ck_fmt(ck, "%lld (%lldM)", n, n / (1024 * 1024));
    return ck_fmt(ck, "%lld", n);
}

/* cd_size_opt - a SIZE option in bytes (-1: 0, no limit); -2 and a -v
   line when the value is not a size */
static long long cd_size_opt(CK *ck, const CD_USE *u, const char *name)
{
    int     dflt;
    const char *v = cd_get(u->conf, name, &dflt);
    long long n = ck_clamd_size(v);

    if (n < 0) {
        ck_say(ck, "%s: %s '%s' is not a size (clamd refuses to start): not checked",
               u->conf->path, name, v);
        return -2;
    }
    return n == 0 ? -1 : n;
}

/* cd_below - limit a (-1: none) is below b (-1: none) */
static int cd_below(long long a, long long b)
{
    return a >= 0 && (b < 0 || a < b);
}

/* cd_need - the size to give clamd: message_size_limit rounded up to M */
static const char *cd_need(CK *ck, long long limit)
{
    long long m = 1024 * 1024;

    return limit < 0 ? "0 (no limit, as message_size_limit)"
        : ck_fmt(ck, "%lldM", (limit + m - 1) / m);
}

/* ck_clamd_stream_max_length - rule clamd-stream-max-length */
void    ck_clamd_stream_max_length(CK *ck, const CK_RULE *rule)
{
    CK_LIST uses = {0};
    long long sml;
    size_t  i;

    cd_uses(ck, &uses);
    for (i = 0; i < uses.n; i++) {
        const CD_USE *u = uses.v[i];

        ck_explain(ck, rule, u->server, CK_VARS("VALUE", cd_show(ck, u->conf, "StreamMaxLength"),
                                                "LIMIT", cd_bytes(ck, u->limit)));
        if ((sml = cd_size_opt(ck, u, "StreamMaxLength")) == -2)
            continue;
        if (!cd_below(sml, u->limit)) {
            ck_pass(ck, rule, u->server, NULL);
            continue;
        }
        ck_finding(ck, rule, ck_fmt(ck, "%s of clamd %s is below postsift's message_size_limit "
                                    "= %s (%s)", cd_show(ck, u->conf, "StreamMaxLength"),
                                    u->server, cd_bytes(ck, u->limit), u->set->conf),
                   cd_where(ck, u->conf, "StreamMaxLength"),
                   CK_VARS("ACTION", u->set->error_action ? u->set->error_action : "defer",
                           "CONF", u->conf->path, "SIZE", cd_need(ck, u->limit)));
    }
}

/* cd_on - a BOOL option is on; -1 (and a -v line) when it is not a BOOL */
static int cd_on(CK *ck, const CD_USE *u, const char *name)
{
    int     dflt, b;
    const char *v = cd_get(u->conf, name, &dflt);

    if ((b = ck_clamd_bool(v)) < 0)
        ck_say(ck, "%s: %s '%s' is not yes or no (clamd refuses to start)",
               u->conf->path, name, v);
    return b;
}

/* ck_clamd_alert_encrypted - rule clamd-alert-encrypted */
void    ck_clamd_alert_encrypted(CK *ck, const CK_RULE *rule)
{
    CK_LIST uses = {0};
    const char *what;
    size_t  i;
    int     all, arch, doc;

    cd_uses(ck, &uses);
    for (i = 0; i < uses.n; i++) {
        const CD_USE *u = uses.v[i];

        ck_explain(ck, rule, u->server, CK_VARS("VALUE", cd_show(ck, u->conf, "AlertEncrypted")));
        all = cd_on(ck, u, "AlertEncrypted");
        arch = all == 1 || cd_on(ck, u, "AlertEncryptedArchive") == 1;
        doc = all == 1 || cd_on(ck, u, "AlertEncryptedDoc") == 1;
        if (arch && doc) {
            ck_pass(ck, rule, u->server, NULL);
            continue;
        }
        what = arch ? "encrypted documents (PDF)" : doc ? "encrypted archives (zip, 7z, rar)"
            : "encrypted archives and documents";
        ck_finding(ck, rule, ck_fmt(ck, "clamd %s answers OK for %s: %s, %s, %s", u->server,
                                    what, cd_show(ck, u->conf, "AlertEncrypted"),
                                    cd_show(ck, u->conf, "AlertEncryptedArchive"),
                                    cd_show(ck, u->conf, "AlertEncryptedDoc")),
                   cd_where(ck, u->conf, "AlertEncrypted"), CK_VARS("CONF", u->conf->path));
    }
}

/* ck_clamd_alert_exceeds_max - rule clamd-alert-exceeds-max */
void    ck_clamd_alert_exceeds_max(CK *ck, const CK_RULE *rule)
{
    CK_LIST uses = {0};
    size_t  i;

    cd_uses(ck, &uses);
    for (i = 0; i < uses.n; i++) {
        const CD_USE *u = uses.v[i];

        ck_explain(ck, rule, u->server, CK_VARS("VALUE", cd_show(ck, u->conf, "AlertExceedsMax")));
        if (cd_on(ck, u, "AlertExceedsMax") != 0) {
            ck_pass(ck, rule, u->server, NULL);
            continue;
        }
        ck_finding(ck, rule, ck_fmt(ck, "clamd %s answers OK for what is over its limits (%s, "
                                    "%s): %s", u->server, cd_show(ck, u->conf, "MaxFileSize"),
                                    cd_show(ck, u->conf, "MaxScanSize"),
                                    cd_show(ck, u->conf, "AlertExceedsMax")),
                   cd_where(ck, u->conf, "AlertExceedsMax"), CK_VARS("CONF", u->conf->path));
    }
}

/* ck_clamd_max_size - rule clamd-max-size */
void    ck_clamd_max_size(CK *ck, const CK_RULE *rule)
{
    static const char *const names[] = {"MaxFileSize", "MaxScanSize", NULL};
    CK_LIST uses = {0};
    long long n;
    size_t  i;
    int     j;

    cd_uses(ck, &uses);
    for (i = 0; i < uses.n; i++) {
        const CD_USE *u = uses.v[i];
        int     exceeds = cd_on(ck, u, "AlertExceedsMax") == 1, found = 0;

        ck_explain(ck, rule, u->server, CK_VARS("LIMIT", cd_bytes(ck, u->limit)));
        for (j = 0; names[j]; j++) {
            if ((n = cd_size_opt(ck, u, names[j])) == -2 || !cd_below(n, u->limit))
                continue;
            found = 1;
            ck_finding(ck, rule, ck_fmt(ck, "%s of clamd %s is below postsift's "
                                        "message_size_limit = %s (%s), and AlertExceedsMax is "
                                        "%s", cd_show(ck, u->conf, names[j]), u->server,
                                        cd_bytes(ck, u->limit), u->set->conf,
                                        exceeds ? "on" : "off"),
                       cd_where(ck, u->conf, names[j]),
                       CK_VARS("CONF", u->conf->path, "SIZE", cd_need(ck, u->limit)));
        }
        if (!found)
            ck_pass(ck, rule, u->server, NULL);
    }
}

/* ---------------------------------------------------------------- size-limits */

#define SZ_PIPE     0           /* pipe(8): postsift reads it all */
#define SZ_SMTP     1           /* smtp/lmtp: Postfix obeys postsift's SIZE */
#define SZ_PROXY    2           /* before the queue */
#define SZ_MILTER   3           /* milter: nothing reinjects */

/* One way into postsift: a service (NULL: main.cf) whose mail it scans. */
typedef struct SZ_FRONT {
    const CK_SERVICE *svc;
    const CK_SETTINGS *set;
    int         kind;           /* SZ_* */
} SZ_FRONT;

/* sz_front - add one way in */
static void sz_front(CK *ck, CK_LIST *fronts, const CK_SERVICE *svc, const CK_SETTINGS *set,
                     int kind)
{
    SZ_FRONT *f = ck_alloc(ck, sizeof(*f));

    f->svc = svc;
    f->set = set;
    f->kind = kind;
    ck_list_add(ck, fronts, f);
}

/* sz_transport_fronts - the requests that name transport t */
static void sz_transport_fronts(CK *ck, CK_LIST *fronts, const CK_TRANSPORT *t)
{
    size_t  i, j, len = strlen(t->name);

    for (i = 0; i < ck->requests.n; i++) {
        const CK_REQUEST *r = ck->requests.v[i];

        if (strncmp(r->target, t->name, len) != 0 || (r->target[len] && r->target[len] != ':'))
            continue;
        if (t->set)
            sz_front(ck, fronts, r->service, t->set, SZ_PIPE);
        for (j = 0; j < t->hops.n; j++)
            if (((const CK_FILTER *)t->hops.v[j])->set)
                sz_front(ck, fronts, r->service, ((const CK_FILTER *)t->hops.v[j])->set,
                         SZ_SMTP);
    }
}

/* sz_fronts - every way into postsift, in every design */
static void sz_fronts(CK *ck, CK_LIST *fronts)
{
    CK_LIST svcs = {0};
    CK_SETTINGS *mset;
    size_t  i;

    for (i = 0; i < ck->transports.n; i++)
        sz_transport_fronts(ck, fronts, ck->transports.v[i]);
    for (i = 0; i < ck->proxies.n; i++) {
        const CK_PROXY *p = ck->proxies.v[i];

        if (p->filter->set)
            sz_front(ck, fronts, p->svc, p->filter->set, SZ_PROXY);
    }
    ck_milter_services(ck, &svcs, &mset);
    for (i = 0; mset && i < svcs.n; i++)
        sz_front(ck, fronts, svcs.v[i], mset, SZ_MILTER);
}

/* sz_pf - Postfix's message_size_limit as svc (NULL: main.cf) sees it,
   -1 for 0 (none) */
static long long sz_pf(CK *ck, const CK_SERVICE *svc)
{
    const char *v = svc ? ck_sv(ck, svc, "message_size_limit")
        : ck_main(ck, "message_size_limit");
    long long n = strtoll(*v ? v : CD_PF_SIZE, NULL, 10);

    return n > 0 ? n : -1;
}

/* sz_where - where the Postfix limit of svc (NULL: main.cf) is set */
static const char *sz_where(CK *ck, const CK_SERVICE *svc)
{
    if (svc)
        return ck_sv_where(ck, svc, "message_size_limit");
    return ck_map_get(&ck->mset, "message_size_limit") ? "main.cf message_size_limit"
        : "default message_size_limit";
}

/* sz_name - a way in, for the texts */
static const char *sz_name(const SZ_FRONT *f)
{
    return f->svc ? f->svc->name : "main.cf";
}

/* sz_min - the smaller limit (-1: none) */
static long long sz_min(long long a, long long b)
{
    return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

/* sz_reach - the largest message this way in can pass to reinjection */
static long long sz_reach(CK *ck, const SZ_FRONT *f)
{
    const char *oa = f->set->oversize_action ? f->set->oversize_action : "tag";
    long long ps = cd_limit(f->set->message_size_limit), pf = sz_pf(ck, f->svc);

    if (f->kind == SZ_SMTP || (strcmp(oa, "pass") != 0 && strcmp(oa, "tag") != 0))
        return sz_min(pf, ps);
    return pf;
}

/* sz_harm - what happens to mail between postsift's and Postfix's limit */
static const char *sz_harm(CK *ck, const SZ_FRONT *f)
{
    if (f->kind == SZ_SMTP)
        return "postsift announces SIZE, and Postfix's smtp client bounces larger mail "
            "(message size exceeds the server's limit)";
    return ck_fmt(ck, "larger mail is not scanned and gets oversize_action %s",
                  f->set->oversize_action ? f->set->oversize_action : "tag");
}

/* sz_front_check - Postfix accepts more than postsift scans */
static void sz_front_check(CK *ck, const CK_RULE *rule, const SZ_FRONT *f)
{
    long long ps = cd_limit(f->set->message_size_limit), pf = sz_pf(ck, f->svc);

    ck_explain(ck, rule, sz_name(f), CK_VARS("POSTFIX", cd_bytes(ck, pf),
                                             "POSTSIFT", cd_bytes(ck, ps)));
    if (!cd_below(ps, pf)) {
        ck_pass(ck, rule, sz_name(f), NULL);
        return;
    }
    ck_finding(ck, rule, ck_fmt(ck, "%s accepts mail %s, postsift's message_size_limit is "
                                "%s (%s): %s", sz_name(f), pf < 0 ? "of any size"
                                : ck_fmt(ck, "up to %s bytes", cd_bytes(ck, pf)),
                                cd_bytes(ck, ps), f->set->conf, sz_harm(ck, f)),
               sz_where(ck, f->svc), CK_VARS("SIZE", cd_bytes(ck, ps)));
}

/* sz_port_of - the port of a reinject_target ("[127.0.0.1]:10026") */
static const char *sz_port_of(const char *target)
{
    const char *colon = target ? strrchr(target, ':') : NULL;

    return colon ? colon + 1 : "";
}

/* sz_reinj_check - more reaches the reinjection smtpd than it takes */
static void sz_reinj_check(CK *ck, const CK_RULE *rule, const CK_REINJ *r, const CK_LIST *fronts)
{
    const char *port = strrchr(r->svc->svc, ':') ? strrchr(r->svc->svc, ':') + 1 : r->svc->svc;
    const SZ_FRONT *worst = NULL;
    long long rl = sz_pf(ck, r->svc), reach = 0, n;
    size_t  i;

    for (i = 0; i < fronts->n; i++) {
        const SZ_FRONT *f = fronts->v[i];

        if (f->kind == SZ_MILTER || strcmp(sz_port_of(f->set->reinject_target), port) != 0)
            continue;
        n = sz_reach(ck, f);
        if (worst == NULL || cd_below(reach, n))
            worst = f, reach = n;
    }
    if (worst == NULL)
        return;
    ck_explain(ck, rule, r->svc->name, CK_VARS("POSTFIX", cd_bytes(ck, rl),
                                               "POSTSIFT", cd_bytes(ck, reach)));
    if (!cd_below(rl, reach)) {
        ck_pass(ck, rule, r->svc->name, NULL);
        return;
    }
    ck_finding(ck, rule, ck_fmt(ck, "the reinjection smtpd %s takes at most %s bytes, but "
                                "mail %s comes back from postsift (accepted by %s)", r->svc->name,
                                cd_bytes(ck, rl), reach < 0 ? "of any size"
                                : ck_fmt(ck, "up to %s bytes", cd_bytes(ck, reach)),
                                sz_name(worst)),
               ck_sv_where(ck, r->svc, "message_size_limit"),
               CK_VARS("SIZE", cd_bytes(ck, reach)));
}

/* ck_size_limits - rule size-limits */
void    ck_size_limits(CK *ck, const CK_RULE *rule)
{
    CK_LIST fronts = {0};
    size_t  i;

    sz_fronts(ck, &fronts);
    for (i = 0; i < fronts.n; i++)
        sz_front_check(ck, rule, fronts.v[i]);
    for (i = 0; i < ck->reinjs.n; i++) {
        const CK_REINJ *r = ck->reinjs.v[i];

        if (strcmp(ck_daemon(r->svc), "smtpd") == 0)
            sz_reinj_check(ck, rule, r, &fronts);
    }
}
