/*
 * hostport - "host:port" (see hostport.h)
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "lib/hostport.h"

/* hostport_set_port - the port after the colon, or the default */
static int hostport_set_port(HOSTPORT *hp, const char *colon, const char *default_port,
                             const char **why)
{
    const char *port = colon ? colon + 1 : default_port;

    if (port == NULL || *port == 0) {
        *why = "no port";
        return -1;
    }
    if (strlen(port) >= sizeof(hp->port) || strpbrk(port, ":[] \t") != NULL) {
        *why = "bad port";
        return -1;
    }
    snprintf(hp->port, sizeof(hp->port), "%s", port);
    return 0;
}

/* hostport_parse - split spec into host and port */
int hostport_parse(const char *spec, const char *default_port, int flags, HOSTPORT *hp,
                   const char **why)
{
    const char *h = spec, *he, *colon;
    size_t  n, i;

    memset(hp, 0, sizeof(*hp));
    if ((flags & HOSTPORT_INET) && strncmp(h, "inet:", 5) == 0)
        h += 5;
    if (*h == '[') {
        if ((he = strchr(h, ']')) == NULL) {
            *why = "no closing bracket";
            return -1;
        }
        if (he[1] != 0 && he[1] != ':') {
            *why = "text after the closing bracket";
            return -1;
        }
        colon = he[1] == ':' ? he + 1 : NULL;
        h++;
        hp->bracketed = 1;
    } else {
        colon = strrchr(h, ':');
        if (colon && memchr(h, ':', (size_t)(colon - h)) != NULL) {
            *why = "an IPv6 address goes in brackets, as in [::1]:10025";
            return -1;
        }
        he = colon ? colon : h + strlen(h);
    }
    n = (size_t)(he - h);
    if (n >= sizeof(hp->host)) {
        *why = "host name too long";
        return -1;
    }
    for (i = 0; i < n; i++)
        hp->host[i] = (flags & HOSTPORT_LOWER) ? (char)tolower((unsigned char)h[i]) : h[i];
    if (strcmp(hp->host, "*") == 0 && !hp->bracketed)
        hp->host[0] = 0;
    if (hp->host[0] == 0 && !(flags & HOSTPORT_ANY_HOST)) {
        *why = "no host";
        return -1;
    }
    return hostport_set_port(hp, colon, default_port, why);
}
