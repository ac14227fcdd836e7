/*
 * check - the linter behind "postsift-postfix check"
 *
 * One run reads an instance (postconf -n, -x, -M, -P, or a snapshot of
 * them), finds the content filters in it (discover.c), and runs every rule
 * of the table in rules.c over what it found. The parts:
 *
 *   postconf.c  run postconf and postmap without a shell, or read the
 *               snapshot's files instead; parse their output
 *   instance.c  the instance: main.cf and master.cf values as a service
 *               sees them, limits, times
 *   settings.c  the filter's own settings, through lib/config
 *   tables.c    access tables and restriction lists
 *   probe.c     the SMTP probe of a filter's port, the milter and
 *               policy probes
 *   milter.c    the rules about postsift as a milter (smtpd_milters)
 *   policy.c    the rules about postsift-policy (check_policy_service)
 *   clamd.c     the rules about the clamd servers of the scanner setting
 *               (their clamd.conf), and the size limits of every design
 *   discover.c  the filters, transports and reinjection smtpds
 *   rules.c     the rule table, the output lines and the man page text
 *   check.c     one run: options, reading, discovery, rules, exit status
 *
 * Everything a run allocates comes from its pool and is freed at its end.
 */
#ifndef POSTSIFT_CHECK_H
#define POSTSIFT_CHECK_H

#include <stdint.h>
#include <stdio.h>

#include "lib/vbuf.h"

#define CK_PROG         "postsift-postfix"      /* the name in every line */
#define CK_MARGIN       60                      /* s a reply may need past a limit */
#define CK_UNLIMITED    1000000L                /* a limit of 0: none */
#define CK_PROBE_TIME   25                      /* s for the whole SMTP probe */
#define CK_MILTER_TIME  10                      /* s for the whole milter probe */
#define CK_POLICY_TIME  10                      /* s for the whole policy probe */
#define CK_DEFAULT_CONF "/etc/postsift/postsift.conf"

/* CK_UNCONST - a pointer we own, held in a list of void * */
#define CK_UNCONST(p)   ((void *)(uintptr_t)(const void *)(p))

/* exit statuses */
#define CK_EXIT_CLEAN    0
#define CK_EXIT_FINDINGS 1
#define CK_EXIT_USAGE    2                      /* also: unreadable instance */

typedef struct CK_OPTS {
    int         verbose;        /* -v */
    const char *config_dir;     /* -c, NULL: postconf's config_directory */
    const char *conf;           /* -p, NULL: the default */
    const char *snapshot;       /* --snapshot DIR, NULL: the live instance */
    const char *clamd_conf;     /* --clamd-conf FILE, NULL: search (clamd.c) */
} CK_OPTS;

/* A growable array of pointers, its storage in the run's pool. */
typedef struct CK_LIST {
    void  **v;
    size_t  n, cap;
} CK_LIST;

/* name = value pairs (postconf output), looked up by name */
typedef struct CK_MAP {
    CK_LIST names, values;
} CK_MAP;

/* One master.cf service (a line of postconf -M). */
typedef struct CK_SERVICE {
    const char *name;           /* service/type, "smtp/inet" */
    const char *svc;            /* "smtp" */
    const char *type;           /* "inet" */
    const char *maxproc;        /* the process limit field as written */
    const char *chroot;         /* the chroot field as written */
    const char *command;        /* command and arguments */
    CK_LIST     words;          /* command split at white space */
} CK_SERVICE;

/* The filter's settings the rules need, as text. */
typedef struct CK_SETTINGS {
    const char *key;            /* "pipe:SERVICE" or "smtp:HOST:PORT" */
    const char *conf;           /* the postsift.conf it read */
    const char *reinject_target;
    const char *smtpd_listen;
    const char *smtpd_workers;
    const char *pipe_deadline;
    const char *smtpd_data_done_timeout;
    const char *milter_listen;
    const char *milter_workers;
    const char *policy_listen;
    const char *policy_timeout;
    const char *policy_command_timeout;
    const char *policy_store_timeout;
    const char *policy_idle_timeout;
    const char *scanner;
    const char *message_size_limit;     /* bytes, "0": none */
    const char *oversize_action;
    const char *error_action;
    const char *error;          /* why lib/config refused it, or NULL */
} CK_SETTINGS;

/* A content filter request: main.cf, a service's -o, a FILTER action. */
typedef struct CK_REQUEST {
    const char *origin;         /* "main.cf content_filter", ... */
    const CK_SERVICE *service;  /* NULL: main.cf */
    const char *target;         /* transport:nexthop */
    int         from_table;     /* a FILTER action of an access table */
} CK_REQUEST;

/* An SMTP filter: a scan transport's next hop, or smtpd_proxy_filter. */
typedef struct CK_FILTER {
    const char *what;           /* "scan/unix -> [127.0.0.1]:10025" */
    const char *host, *port;
    const char *desc;           /* "the postsift-filter daemon on ..." */
    long        conc;           /* how many messages it takes at once */
    CK_SETTINGS *set;           /* NULL: not postsift-filter */
} CK_FILTER;

/* A transport a request names (after the queue). */
typedef struct CK_TRANSPORT {
    const char *name;           /* "postsift", "scan" */
    const char *origin;         /* the first request that names it */
    const CK_SERVICE *svc;      /* NAME/unix, NULL when master.cf lacks it */
    const char *daemon;         /* pipe, smtp, lmtp, ... */
    long        conc;           /* min(process limit, destination limit) */
    CK_SETTINGS *set;           /* pipe: the filter's, NULL if not ours */
    CK_LIST     hops;           /* smtp/lmtp: CK_FILTER per next hop */
} CK_TRANSPORT;

/* An smtpd with smtpd_proxy_filter, judged as a before-queue front. */
typedef struct CK_PROXY {
    const CK_SERVICE *svc;
    const char *value;          /* smtpd_proxy_filter */
    CK_FILTER  *filter;
} CK_PROXY;

/* A service that filters reinject into. */
typedef struct CK_REINJ {
    const CK_SERVICE *svc;
    CK_LIST     from;           /* what reinjects, strings */
    CK_LIST     xforward;       /* those that send XFORWARD */
    long        conc;           /* their concurrency, summed */
    int         after_queue;    /* some filter is after the queue */
} CK_REINJ;

/* A reinject_target on the loopback that no service answers. */
typedef struct CK_LOST {
    const char *what;           /* the filter */
    const char *target;         /* reinject_target */
    const char *port;
} CK_LOST;

/* A table lookup in a restriction list: check_*_access or a policy. */
typedef struct CK_ITEM {
    const char *param;          /* smtpd_client_restrictions, ... */
    const char *restriction;    /* check_client_access, ... */
    const char *table;          /* its argument */
} CK_ITEM;

/* A port to probe. */
typedef struct CK_PROBE {
    const char *what, *host, *port;
} CK_PROBE;

typedef struct CK_POOL CK_POOL;

typedef struct CK {
    const CK_OPTS *opts;
    FILE       *out;            /* findings and -v lines */
    CK_POOL    *pool;
    const char *config_dir;     /* the instance, or the snapshot */
    /* the instance */
    CK_MAP      main;           /* every main.cf value (postconf -x) */
    CK_MAP      mset;           /* set in main.cf (postconf -n) */
    CK_MAP      params;         /* postconf -P: "svc/type/name" */
    CK_LIST     services;       /* CK_SERVICE */
    /* what discovery found */
    CK_LIST     requests;       /* CK_REQUEST */
    CK_LIST     transports;     /* CK_TRANSPORT */
    CK_LIST     proxies;        /* CK_PROXY */
    CK_LIST     reinjs;         /* CK_REINJ */
    CK_LIST     lost;           /* CK_LOST */
    CK_LIST     probes;         /* CK_PROBE */
    CK_LIST     settings;       /* CK_SETTINGS, one per key */
    CK_LIST     sendmail;       /* filters that reinject with sendmail */
    CK_LIST     table_cache;    /* pairs: table, CK_LIST * of FILTER results */
    CK_LIST     clamd_confs;    /* the clamd.conf files read (clamd.c) */
    /* output */
    CK_LIST     seen;           /* "id|where" of the findings made */
    int         nfind;
} CK;

/* check.c */
int     check_run(const CK_OPTS *opts, FILE *out, FILE *err);
int     check_usage(const char *what, const char *arg, const char *more);
void   *ck_alloc(CK *ck, size_t len);
void    ck_pool_release(CK *ck);
const char *ck_str(CK *ck, const char *s);
const char *ck_strn(CK *ck, const char *s, size_t len);
const char *ck_fmt(CK *ck, const char *fmt, ...) PS_PRINTF(2, 3);
void    ck_list_add(CK *ck, CK_LIST *list, const void *item);
int     ck_list_has(const CK_LIST *list, const char *s);
const char *ck_join(CK *ck, const CK_LIST *list, const char *sep);
void    ck_say(CK *ck, const char *fmt, ...) PS_PRINTF(2, 3);
void    ck_words(CK *ck, CK_LIST *list, const char *text);
void    ck_list_split(CK *ck, CK_LIST *list, const char *text);

/* postconf.c */
int     postconf_read(CK *ck, VBUF *err);
int     postconf_run(const char *const *argv, VBUF *out, int timeout, VBUF *err);
const char *postconf_snap_path(CK *ck, const char *name);
int     postconf_postmap_s(CK *ck, const char *table, VBUF *out);
int     postconf_executable(CK *ck, const char *prog);

/* instance.c */
void    ck_map_set(CK *ck, CK_MAP *map, const char *name, const char *value);
const char *ck_map_get(const CK_MAP *map, const char *name);
const char *ck_main(CK *ck, const char *name);
const char *ck_sv(CK *ck, const CK_SERVICE *svc, const char *name);
int     ck_sv_own(CK *ck, const CK_SERVICE *svc, const char *name);
const char *ck_sv_where(CK *ck, const CK_SERVICE *svc, const char *name);
const CK_SERVICE *ck_service(CK *ck, const char *name);
const char *ck_daemon(const CK_SERVICE *svc);
void    ck_argv(CK *ck, const CK_SERVICE *svc, CK_LIST *argv);
const char *ck_attr(const CK_SERVICE *svc, const char *name);
long    ck_maxproc(CK *ck, const CK_SERVICE *svc);
long    ck_dest_limit(CK *ck, const char *transport, const char *kind);
long    ck_seconds(const char *value);
const char *ck_show(CK *ck, long n);
int     ck_has_opt(const char *list, const char *word);
int     ck_parse_addr(CK *ck, const char *addr, const char **host, const char **port);
int     ck_is_loopback(const char *host);
const CK_SERVICE *ck_inet_service(CK *ck, const char *port);

/* settings.c */
CK_SETTINGS *ck_settings(CK *ck, const char *key, const char *conf, const CK_LIST *ovr);
CK_SETTINGS *ck_argv_settings(CK *ck, const char *key, const CK_SERVICE *svc);
CK_SETTINGS *ck_policy_settings(CK *ck, const char *key, const CK_SERVICE *svc);
CK_SETTINGS *ck_daemon_settings(CK *ck, const char *key);

/* tables.c */
const CK_LIST *ck_table_filters(CK *ck, const char *table);
void    ck_restrictions(CK *ck, const CK_SERVICE *svc, CK_LIST *items);
const char *ck_entry_addr(CK *ck, const char *entry);
const char *ck_entry_opt(CK *ck, const char *entry, const char *name);
extern const char *const ck_restriction_lists[];

/* probe.c */
int     ck_probe(CK *ck, const char *host, const char *port, VBUF *why);
int     ck_milter_probe(CK *ck, const char *addr, const char *target, VBUF *why);
int     ck_policy_probe(CK *ck, const char *addr, const char *target, VBUF *why);

/* discover.c */
void    ck_discover(CK *ck);
int     ck_mapped_before(CK *ck);

/* rules.c */
typedef struct CK_RULE CK_RULE;
struct CK_RULE {
    const char *id;
    void      (*check)(CK *ck, const CK_RULE *rule);
    const char *about;          /* when it fires, for the man page */
    const char *explain;        /* what -v says it checks */
    const char *harm;
    const char *fix;
};
extern const CK_RULE ck_rules[];

/* vars: NAME, value, ..., NULL; they fill <NAME> in the table's texts */
#define CK_VARS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define CK_NOVARS    ((const char *const[]){NULL})
void    ck_explain(CK *ck, const CK_RULE *rule, const char *where, const char *const *vars);
void    ck_pass(CK *ck, const CK_RULE *rule, const char *where, const char *detail);
void    ck_finding(CK *ck, const CK_RULE *rule, const char *what, const char *where,
                   const char *const *vars);
const CK_RULE *ck_rule(const char *id);
void    ck_run_rules(CK *ck);
void    ck_man(FILE *fp);

/* milter.c: the milter rules (in the table of rules.c) */
void    ck_milter_default_action(CK *ck, const CK_RULE *rule);
void    ck_milter_content_timeout(CK *ck, const CK_RULE *rule);
void    ck_milter_and_content_filter(CK *ck, const CK_RULE *rule);
void    ck_milter_not_answering(CK *ck, const CK_RULE *rule);
void    ck_milter_workers(CK *ck, const CK_RULE *rule);
void    ck_milter_services(CK *ck, CK_LIST *svcs, CK_SETTINGS **setp);

/* policy.c: the policy service rules (in the table of rules.c) */
void    ck_policy_missing(CK *ck, const CK_RULE *rule);
void    ck_policy_timeout(CK *ck, const CK_RULE *rule);
void    ck_policy_after_permit(CK *ck, const CK_RULE *rule);

/* clamd.c: the clamd and size rules (in the table of rules.c) */
void    ck_clamd_stream_max_length(CK *ck, const CK_RULE *rule);
void    ck_clamd_alert_encrypted(CK *ck, const CK_RULE *rule);
void    ck_clamd_alert_exceeds_max(CK *ck, const CK_RULE *rule);
void    ck_clamd_max_size(CK *ck, const CK_RULE *rule);
void    ck_size_limits(CK *ck, const CK_RULE *rule);
long long ck_clamd_size(const char *value);
int     ck_clamd_bool(const char *value);

#endif
