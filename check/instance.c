/*
 * instance - the Postfix instance as the rules see it: a parameter as a
 * master.cf service sees it (its own -o, else main.cf's), where that
 * value comes from, a service's program, argv and attributes, process
 * and destination limits, time values, addresses and the inet services
 * that listen on a port.
 */
#include <ctype.h>
#include <string.h>

#include "check/check.h"

/* ck_map_set - name = value; a later value wins */
void    ck_map_set(CK *ck, CK_MAP *map, const char *name, const char *value)
{
    size_t  i;

    for (i = 0; i < map->names.n; i++) {
        if (strcmp(map->names.v[i], name) == 0) {
            map->values.v[i] = CK_UNCONST(value);
            return;
        }
    }
    ck_list_add(ck, &map->names, name);
    ck_list_add(ck, &map->values, value);
}

/* ck_map_get - the value of name, NULL when it is not there */
const char *ck_map_get(const CK_MAP *map, const char *name)
{
    size_t  i;

    for (i = 0; i < map->names.n; i++)
        if (strcmp(map->names.v[i], name) == 0)
            return map->values.v[i];
    return NULL;
}

/* ck_main - a main.cf value (postconf -x), "" when unknown */
const char *ck_main(CK *ck, const char *name)
{
    const char *v = ck_map_get(&ck->main, name);

    return v ? v : "";
}

/* ck_sv_own - the service has its own -o name */
int     ck_sv_own(CK *ck, const CK_SERVICE *svc, const char *name)
{
    return ck_map_get(&ck->params, ck_fmt(ck, "%s/%s", svc->name, name)) != NULL;
}

/* ck_sv - name as the service sees it: its -o, else main.cf's */
const char *ck_sv(CK *ck, const CK_SERVICE *svc, const char *name)
{
    const char *v = ck_map_get(&ck->params, ck_fmt(ck, "%s/%s", svc->name, name));

    return v ? v : ck_main(ck, name);
}

/* ck_sv_where - where that value comes from, for a finding */
const char *ck_sv_where(CK *ck, const CK_SERVICE *svc, const char *name)
{
    if (ck_sv_own(ck, svc, name))
        return ck_fmt(ck, "master.cf %s -o %s", svc->name, name);
    if (ck_map_get(&ck->mset, name))
        return ck_fmt(ck, "main.cf %s, used by %s", name, svc->name);
    return ck_fmt(ck, "default %s, used by %s", name, svc->name);
}

/* ck_service - the service "name/type", NULL when master.cf lacks it */
const CK_SERVICE *ck_service(CK *ck, const char *name)
{
    size_t  i;

    for (i = 0; i < ck->services.n; i++) {
        const CK_SERVICE *s = ck->services.v[i];

        if (strcmp(s->name, name) == 0)
            return s;
    }
    return NULL;
}

/* ck_daemon - the program a service runs, "" for none */
const char *ck_daemon(const CK_SERVICE *svc)
{
    return svc && svc->words.n ? svc->words.v[0] : "";
}

/* ck_argv - the words of argv= of a pipe or spawn service */
void    ck_argv(CK *ck, const CK_SERVICE *svc, CK_LIST *argv)
{
    size_t  i;
    int     on = 0;

    for (i = 0; i < svc->words.n; i++) {
        const char *w = svc->words.v[i];

        if (!on && strncmp(w, "argv=", 5) == 0) {
            on = 1;
            w += 5;
        }
        if (on)
            ck_list_add(ck, argv, w);
    }
}

/* ck_attr - a pipe or spawn attribute NAME=value before argv=; NULL
   when absent */
const char *ck_attr(const CK_SERVICE *svc, const char *name)
{
    size_t  i, len = strlen(name);

    for (i = 0; i < svc->words.n; i++) {
        const char *w = svc->words.v[i];

        if (strncmp(w, "argv=", 5) == 0)
            return NULL;
        if (strncmp(w, name, len) == 0 && w[len] == '=')
            return w + len + 1;
    }
    return NULL;
}

/* ck_number - a decimal number, -1 for anything else */
static long ck_number(const char *s)
{
    long    n = 0;

    if (s == NULL || *s == 0)
        return -1;
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s) || n > CK_UNLIMITED * 1000)
            return -1;
        n = n * 10 + (*s - '0');
    }
    return n;
}

/* ck_maxproc - a service's process limit ("-": default_process_limit;
   0: unlimited, as CK_UNLIMITED) */
long    ck_maxproc(CK *ck, const CK_SERVICE *svc)
{
    const char *m = svc->maxproc;
    size_t  len;
    long    n;

    if (*m == 0 || strcmp(m, "-") == 0)
        m = *ck_main(ck, "default_process_limit") ? ck_main(ck, "default_process_limit") : "100";
    len = strlen(m);
    if (len > 0 && m[len - 1] == '?')
        m = ck_strn(ck, m, len - 1);
    if ((n = ck_number(m)) < 0)
        n = 100;
    return n == 0 ? CK_UNLIMITED : n;
}

/* ck_dest_limit - TRANSPORT_destination_KIND_limit (qmgr reads main.cf);
   0 (no limit) as CK_UNLIMITED */
long    ck_dest_limit(CK *ck, const char *transport, const char *kind)
{
    const char *dflt = ck_fmt(ck, "default_destination_%s_limit", kind);
    const char *v = ck_main(ck, ck_fmt(ck, "%s_destination_%s_limit", transport, kind));
    long    n;

    if (*v == 0)
        v = ck_main(ck, dflt);
    if ((n = ck_number(v)) < 0 && (n = ck_number(ck_main(ck, dflt))) < 0)
        n = 20;
    return n == 0 ? CK_UNLIMITED : n;
}

/* ck_seconds - a Postfix time value in seconds (no unit: seconds) */
long    ck_seconds(const char *value)
{
    long    n = 0;
    const char *cp;

    for (cp = value; isdigit((unsigned char)*cp) && n < CK_UNLIMITED * 1000; cp++)
        n = n * 10 + (*cp - '0');
    if (cp == value)
        return 0;
    switch (*cp) {
    case 'm':
        return n * 60;
    case 'h':
        return n * 3600;
    case 'd':
        return n * 86400;
    case 'w':
        return n * 604800;
    default:
        return n;
    }
}

/* ck_show - a limit for a message ("unlimited" for CK_UNLIMITED) */
const char *ck_show(CK *ck, long n)
{
    return n >= CK_UNLIMITED ? "unlimited" : ck_fmt(ck, "%ld", n);
}

/* ck_has_opt - a comma or white space separated list holds word */
int     ck_has_opt(const char *list, const char *word)
{
    const char *cp = list;
    size_t  len, wlen = strlen(word);

    for (;;) {
        cp += strspn(cp, ", \t\r\n");
        if (*cp == 0)
            return 0;
        len = strcspn(cp, ", \t\r\n");
        if (len == wlen && strncmp(cp, word, len) == 0)
            return 1;
        cp += len;
    }
}

/* ck_parse_addr - host and port of [host]:port, host:port or
   inet:host:port (no port: 25); -1 for unix: and paths */
int     ck_parse_addr(CK *ck, const char *addr, const char **host, const char **port)
{
    const char *a = strncmp(addr, "inet:", 5) == 0 ? addr + 5 : addr;
    const char *colon = strrchr(a, ':');
    const char *h, *p;
    size_t  len;

    if (strncmp(a, "unix:", 5) == 0 || *a == '/' || *a == 0)
        return -1;
    h = colon ? ck_strn(ck, a, (size_t)(colon - a)) : a;
    p = colon ? colon + 1 : "25";
    if (*h == '[')
        h++;
    len = strlen(h);
    if (len > 0 && h[len - 1] == ']')
        h = ck_strn(ck, h, len - 1);
    if (ck_number(p) < 0)
        return -1;
    *host = *h ? h : "localhost";
    *port = p;
    return 0;
}

/* ck_is_loopback - a loopback host */
int     ck_is_loopback(const char *host)
{
    return strncmp(host, "127.", 4) == 0 || strcmp(host, "localhost") == 0
        || strcmp(host, "::1") == 0 || *host == 0;
}

/* ck_inet_service - the inet service listening on port, on the loopback
   or on every address; NULL when there is none */
const CK_SERVICE *ck_inet_service(CK *ck, const char *port)
{
    static const char *const any[] = {"", "localhost", "[::1]", "*", "0.0.0.0", NULL};
    const char *colon, *name, *host;
    size_t  i;
    int     j, ok;

    for (i = 0; i < ck->services.n; i++) {
        const CK_SERVICE *s = ck->services.v[i];

        if (strcmp(s->type, "inet") != 0)
            continue;
        colon = strrchr(s->svc, ':');
        name = colon ? colon + 1 : s->svc;
        host = colon ? ck_strn(ck, s->svc, (size_t)(colon - s->svc)) : "";
        if (strcmp(name, port) != 0 && !(strcmp(port, "25") == 0 && strcmp(name, "smtp") == 0))
            continue;
        ok = strncmp(host, "127.", 4) == 0;
        for (j = 0; any[j] && !ok; j++)
            ok = strcmp(host, any[j]) == 0;
        if (ok)
            return s;
    }
    return NULL;
}
