/*
 * avscan - the scanners of the scanner setting, as one (see avscan.h)
 *
 * The table below names each backend by the form of its entries. The
 * setting is split at commas and white space; each entry finds its
 * backend; the entries of a pool backend (clamd) are gathered into one,
 * in order. Then each backend is opened, in the order of its first entry.
 * An empty setting means "clamav", as it always has.
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/printable.h"
#include "lib/vbuf.h"
#include "scan/avbackend.h"
#include "scan/avscan.h"

#define AVSCAN_MAX      16              /* scanners in one setting */
#define AVSCAN_TEXT_CAP 4096

static const AVBACKEND *const avscan_backends[] = {
    &avclamav_backend,
    &avclamd_backend,
    &avcommand_backend,
};

#define AVSCAN_NBACKENDS ((int)(sizeof(avscan_backends) / sizeof(avscan_backends[0])))

typedef struct AVSCAN_ONE {
    const AVBACKEND *be;
    void   *h;
} AVSCAN_ONE;

struct AVSCAN {
    AVSCAN_ONE scanners[AVSCAN_MAX];
    int     n;
    VBUF   *version;                    /* avscan_version(), rebuilt per call */
};

/* What the setting says, before anything is opened. */
typedef struct AVSCAN_PLAN {
    const AVBACKEND *be[AVSCAN_MAX];
    char   *specs[AVSCAN_MAX][AVSCAN_MAX];  /* each backend's entries */
    int     nspecs[AVSCAN_MAX];
    int     n;
} AVSCAN_PLAN;

/* avscan_backend - the backend of one entry, or NULL */
static const AVBACKEND *avscan_backend(const char *spec)
{
    const AVBACKEND *be;
    int     i;

    for (i = 0; i < AVSCAN_NBACKENDS; i++) {
        be = avscan_backends[i];
        if (be->exact ? strcmp(spec, be->prefix) == 0
            : strncmp(spec, be->prefix, strlen(be->prefix)) == 0)
            return be;
    }
    return NULL;
}

/* avscan_plan_add - one entry into the plan; -1 with why in err */
static int avscan_plan_add(AVSCAN_PLAN *plan, char *spec, VBUF *err)
{
    const AVBACKEND *be = avscan_backend(spec);
    char    shown[256];
    int     i;

    printable_copy(shown, sizeof(shown), spec, sizeof(shown) - 1, 0);
    if (be == NULL) {
        vbuf_sprintf(err, "bad scanner \"%s\": expected clamav, a list of clamd:unix:/path "
                     "and clamd:inet:host:port, or command:/path", shown);
        return -1;
    }
    for (i = 0; i < plan->n; i++) {
        if (plan->be[i] == be && (be->pool || be->exact))
            break;
        if (be->engine && plan->be[i]->engine && plan->be[i] != be) {
            vbuf_sprintf(err, "bad scanner \"%s\": clamav and clamd both scan with ClamAV; "
                         "list one of them", shown);
            return -1;
        }
    }
    if (i == plan->n && plan->n == AVSCAN_MAX) {
        vbuf_sprintf(err, "too many scanners (at most %d)", AVSCAN_MAX);
        return -1;
    }
    if (i < plan->n && be->exact) {
        vbuf_sprintf(err, "scanner \"%s\" listed twice", shown);
        return -1;
    }
    if (i == plan->n)
        plan->be[plan->n++] = be;
    if (plan->nspecs[i] == AVSCAN_MAX) {
        vbuf_sprintf(err, "too many scanners (at most %d)", AVSCAN_MAX);
        return -1;
    }
    plan->specs[i][plan->nspecs[i]++] = spec;
    return 0;
}

/* avscan_open_all - open each backend of the plan; -1 with why in err */
static int avscan_open_all(AVSCAN *av, AVSCAN_PLAN *plan, const char *dbdir, VBUF *err)
{
    void   *h;
    int     i;

    for (i = 0; i < plan->n; i++) {
        if ((h = plan->be[i]->open(plan->specs[i], plan->nspecs[i], dbdir, err)) == NULL)
            return -1;
        av->scanners[av->n].be = plan->be[i];
        av->scanners[av->n++].h = h;
    }
    return 0;
}

/* avscan_open - set up the scanners listed in spec */
AVSCAN *avscan_open(const char *spec, const char *dbdir, VBUF *err)
{
    static const char seps[] = ", \t\r\n";
    AVSCAN_PLAN plan;
    AVSCAN *av;
    char   *copy, *save = NULL, *tok;
    int     ret = 0;

    vbuf_reset(err);
    memset(&plan, 0, sizeof(plan));
    copy = mystrdup(spec && spec[strspn(spec, seps)] ? spec : "clamav");
    for (tok = strtok_r(copy, seps, &save); tok && ret == 0; tok = strtok_r(NULL, seps, &save))
        ret = avscan_plan_add(&plan, tok, err);
    av = mycalloc(1, sizeof(*av));
    av->version = vbuf_alloc(AVSCAN_TEXT_CAP);
    if (ret == 0)
        ret = avscan_open_all(av, &plan, dbdir, err);
    myfree(copy);
    if (ret < 0) {
        avscan_close(av);
        return NULL;
    }
    return av;
}

/* avscan_worst - the more severe of two part answers (error first) */
static int avscan_worst(int a, int b)
{
    if (a == AV_ERROR || b == AV_ERROR)
        return AV_ERROR;
    return a == AV_VIRUS || b == AV_VIRUS ? AV_VIRUS : AV_CLEAN;
}

/* avscan_parts - every part scanner on a file (buf NULL) or bytes */
static int avscan_parts(AVSCAN *av, int fd, const void *buf, size_t len,
                        VBUF *virname, VBUF *err)
{
    VBUF   *name = vbuf_alloc(1024);
    VBUF   *why = vbuf_alloc(AVSCAN_TEXT_CAP);
    const AVBACKEND *be;
    int     i, rc, result = AV_CLEAN;

    vbuf_reset(virname);
    vbuf_reset(err);
    for (i = 0; i < av->n; i++) {
        if ((be = av->scanners[i].be)->scan_fd == NULL)
            continue;
        vbuf_reset(name);
        vbuf_reset(why);
        rc = buf ? be->scan_mem(av->scanners[i].h, buf, len, name, why)
            : be->scan_fd(av->scanners[i].h, fd, name, why);
        if (rc == AV_VIRUS && vbuf_len(virname) == 0)
            vbuf_strcpy(virname, vbuf_str(name));
        if (rc == AV_ERROR && vbuf_len(err) == 0)
            vbuf_strcpy(err, vbuf_str(why));
        result = avscan_worst(result, rc);
    }
    vbuf_free(name);
    vbuf_free(why);
    return result;
}

/* avscan_scan_fd - the part scanners on a whole file from offset 0 */
int avscan_scan_fd(AVSCAN *av, int fd, VBUF *virname, VBUF *err)
{
    return avscan_parts(av, fd, NULL, 0, virname, err);
}

/* avscan_scan_mem - the part scanners on bytes in memory */
int avscan_scan_mem(AVSCAN *av, const void *buf, size_t len, VBUF *virname, VBUF *err)
{
    static const char empty[1];

    return avscan_parts(av, -1, buf ? buf : empty, len, virname, err);
}

/* avscan_has_message_scanners - is a command listed */
int avscan_has_message_scanners(const AVSCAN *av)
{
    int     i;

    for (i = 0; i < av->n; i++)
        if (av->scanners[i].be->scan_message != NULL)
            return 1;
    return 0;
}

/* avscan_reply_init - nothing said yet */
void avscan_reply_init(AVSCAN_REPLY *reply)
{
    reply->code = 0;
    reply->dsn[0] = 0;
    reply->text = vbuf_alloc(AVSCAN_TEXT_CAP);
    reply->scanner = vbuf_alloc(AVSCAN_TEXT_CAP);
    reply->fd = -1;
}

/* avscan_reply_free - release, closing a replacement nobody took */
void avscan_reply_free(AVSCAN_REPLY *reply)
{
    if (reply->fd >= 0)
        (void)close(reply->fd);
    reply->fd = -1;
    vbuf_free(reply->text);
    vbuf_free(reply->scanner);
    reply->text = reply->scanner = NULL;
}

/* avscan_scan_message - the message scanners in order; a replacement
 * made by one is what the next one sees */
int avscan_scan_message(AVSCAN *av, int fd, const SMTP_ENVELOPE *env, AVSCAN_REPLY *reply,
                        VBUF *err)
{
    const AVBACKEND *be;
    int     i, rc = AV_CLEAN, held = -1;

    vbuf_reset(err);
    for (i = 0; i < av->n && rc == AV_CLEAN; i++) {
        if ((be = av->scanners[i].be)->scan_message == NULL)
            continue;
        reply->fd = -1;
        rc = be->scan_message(av->scanners[i].h, held >= 0 ? held : fd, env, reply, err);
        if (rc == AV_CLEAN && reply->fd >= 0) {
            if (held >= 0)
                (void)close(held);
            held = reply->fd;
        }
    }
    /* a backend hands over a replacement only with AV_CLEAN */
    if (rc != AV_CLEAN && held >= 0)
        (void)close(held);
    reply->fd = rc == AV_CLEAN ? held : -1;
    return rc;
}

/* avscan_version - every scanner's version, joined */
const char *avscan_version(AVSCAN *av)
{
    int     i;

    vbuf_reset(av->version);
    for (i = 0; i < av->n; i++)
        vbuf_sprintf_append(av->version, "%s%s", i ? ", " : "",
                            av->scanners[i].be->version(av->scanners[i].h));
    return av->n ? vbuf_str(av->version) : "unknown";
}

/* avscan_signatures - signatures loaded */
unsigned long avscan_signatures(const AVSCAN *av)
{
    unsigned long n = 0;
    int     i;

    for (i = 0; i < av->n; i++)
        if (av->scanners[i].be->signatures)
            n += av->scanners[i].be->signatures(av->scanners[i].h);
    return n;
}

/* avscan_changed - has any scanner's signature set changed */
int avscan_changed(AVSCAN *av)
{
    int     i;

    for (i = 0; i < av->n; i++)
        if (av->scanners[i].be->changed && av->scanners[i].be->changed(av->scanners[i].h))
            return 1;
    return 0;
}

/* avscan_signature_age - age of the newest database known, or -1 */
long long avscan_signature_age(const AVSCAN *av)
{
    long long built, newest = 0, now = (long long)time(NULL);
    int     i;

    for (i = 0; i < av->n; i++)
        if (av->scanners[i].be->built
            && (built = av->scanners[i].be->built(av->scanners[i].h)) > newest)
            newest = built;
    if (newest <= 0)
        return -1;
    return now > newest ? now - newest : 0;
}

/* avscan_test_signatures - only the bundled test signatures loaded */
int avscan_test_signatures(const AVSCAN *av)
{
    int     i;

    for (i = 0; i < av->n; i++)
        if (av->scanners[i].be->test_only
            && av->scanners[i].be->test_only(av->scanners[i].h))
            return 1;
    return 0;
}

/* avscan_close - close every scanner */
void avscan_close(AVSCAN *av)
{
    int     i;

    if (av == NULL)
        return;
    for (i = 0; i < av->n; i++)
        av->scanners[i].be->close(av->scanners[i].h);
    vbuf_free(av->version);
    myfree(av);
}

/* avscan_tmpdir - libclamav's directory of this process */
const char *avscan_tmpdir(void)
{
    return avclamav_tmpdir();
}

/* avscan_tmpdir_remove - remove it now */
void avscan_tmpdir_remove(void)
{
    avclamav_tmpdir_remove();
}

/* avscan_heuristic_unchecked - a name that means "could not be inspected" */
int avscan_heuristic_unchecked(const char *virname)
{
    static const char *const prefixes[] = {
        "Heuristics.Encrypted.",
        "Heuristics.Limits.Exceeded",
    };
    size_t  i;

    if (virname == NULL)
        return 0;
    for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncmp(virname, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    return 0;
}
