/*
 * hostport - "host:port" as every setting of postsift writes it
 *
 * Forms: "host:port", "[host]:port" (an IPv6 address must be in
 * brackets, "[::1]:10025"; a name in brackets is taken as it is, as in
 * Postfix, no MX lookup is ever made), optionally after "inet:" when the
 * caller allows it, and "host" or "[host]" alone when the caller gives a
 * default port. Used for smtpd_listen, the downstream (smtpd_next_hop,
 * reinjection), clamd servers and the client's targets.
 */
#ifndef POSTSIFT_HOSTPORT_H
#define POSTSIFT_HOSTPORT_H

#define HOSTPORT_HOST_MAX 256
#define HOSTPORT_PORT_MAX 64

typedef struct HOSTPORT {
    char    host[HOSTPORT_HOST_MAX];    /* without brackets; "" for "*" or empty
                                         * (HOSTPORT_ANY_HOST) */
    char    port[HOSTPORT_PORT_MAX];    /* a number or a service name */
    int     bracketed;                  /* the host was in [] */
} HOSTPORT;

#define HOSTPORT_INET     (1 << 0)      /* accept and drop a leading "inet:" */
#define HOSTPORT_ANY_HOST (1 << 1)      /* "" and "*" as host: every address */
#define HOSTPORT_LOWER    (1 << 2)      /* host in lower case */

/* hostport_parse - split spec into hp; default_port is used when spec
 * has no port (NULL: a port is required). Returns 0, or -1 with a short
 * reason in *why ("no port", "an IPv6 address goes in brackets, as in
 * [::1]:10025", ...), a static string. */
int     hostport_parse(const char *spec, const char *default_port, int flags, HOSTPORT *hp,
                       const char **why);

#endif
