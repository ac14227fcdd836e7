/*
 * scanmode - postsift-filter -m scan (see scanmode.h)
 *
 * The parts come from the inspector's part report, in the order the walk
 * met them; what decide_message() finds about the message as a whole
 * (the loop check, the size limit, ambiguous MIME, the raw scan, the
 * command scanners, which get an empty envelope here) is only in the
 * verdict and its detail.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filter/outcome.h"
#include "filter/scanmode.h"
#include "scan/decide.h"
#include "scan/inspect.h"
#include "scan/verdict.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/params.h"
#include "lib/spool.h"

#define SCANMODE_TEXT_CAP   (64 * 1024)

typedef struct SCANMODE_PART {
    char   *path;           /* "1", "2.1"; "" the message's own multipart */
    const char *kind;       /* "part", "preamble", "epilogue", "names" */
    char   *name;           /* file name, "" if none */
    char   *declared;       /* declared type, "" if none */
    char   *type;           /* true type, NULL: names only */
    long long size;
    VERDICT verdict;
    char   *detail;
} SCANMODE_PART;

typedef struct SCANMODE {
    INSPECTOR *in;
    VBUF   *open_err;       /* why in is NULL */
    int     json;
    SCANMODE_PART *parts;
    int     nparts, maxparts;
    VBUF   *out;            /* one message's output */
} SCANMODE;

static char scanmode_dir[4096];     /* the private spool directory */
static char scanmode_spool_opt[4200];

/* scanmode_prepare - make the private directory, override the settings */
int     scanmode_prepare(PROG_OPTS *po, VBUF *err)
{
    const char *tmp = getenv("TMPDIR");

    if (tmp == NULL || *tmp != '/')
        tmp = "/tmp";
    if ((size_t)snprintf(scanmode_dir, sizeof(scanmode_dir), "%s/postsift-scan.XXXXXX", tmp)
        >= sizeof(scanmode_dir)) {
        vbuf_sprintf(err, "TMPDIR too long");
        scanmode_dir[0] = 0;
        return -1;
    }
    if (mkdtemp(scanmode_dir) == NULL) {
        vbuf_sprintf(err, "cannot make a directory in %s: %s", tmp, strerror(errno));
        scanmode_dir[0] = 0;
        return -1;
    }
    snprintf(scanmode_spool_opt, sizeof(scanmode_spool_opt), "spool_dir=%s", scanmode_dir);
    prog_opts_override(po, scanmode_spool_opt);
    prog_opts_override(po, "log_file=");
    return 0;
}

/* scanmode_cleanup - the private directory goes (it is empty by now) */
void    scanmode_cleanup(void)
{
    if (scanmode_dir[0] && rmdir(scanmode_dir) < 0 && errno != ENOENT)
        msg_warn("cannot remove %s: %s", scanmode_dir, strerror(errno));
    scanmode_dir[0] = 0;
}

/* scanmode_part - the inspector's part report: keep a copy */
static void scanmode_part(const INSPECT_PART *rep, void *context)
{
    SCANMODE *sm = context;
    const MIMEWALK_PART *p = rep->part;
    SCANMODE_PART *sp;
    static const char *const kinds[] = {
        [MIMEWALK_LEAF] = "part", [MIMEWALK_PREAMBLE] = "preamble",
        [MIMEWALK_EPILOGUE] = "epilogue", [MIMEWALK_NAMES] = "names",
    };

    if (sm->nparts == sm->maxparts) {
        sm->maxparts = sm->maxparts ? 2 * sm->maxparts : 16;
        sm->parts = myrealloc(sm->parts, (size_t)sm->maxparts * sizeof(*sm->parts));
    }
    sp = &sm->parts[sm->nparts++];
    if (p->path == NULL) {
        char    where[64];

        snprintf(where, sizeof(where), "header@%lld", (long long)p->offset);
        sp->path = mystrdup(where);
    } else {
        sp->path = mystrdup(p->path);
    }
    sp->kind = kinds[p->kind];
    sp->name = mystrdup(p->filename ? p->filename : "");
    sp->declared = mystrdup(p->declared ? p->declared : "");
    sp->type = rep->type ? mystrdup(rep->type) : NULL;
    sp->size = p->kind == MIMEWALK_NAMES ? -1 : (long long)p->size;
    sp->verdict = rep->verdict;
    sp->detail = mystrdup(rep->detail ? rep->detail : "");
}

/* scanmode_parts_free - forget the parts of the last message */
static void scanmode_parts_free(SCANMODE *sm)
{
    int     i;

    for (i = 0; i < sm->nparts; i++) {
        myfree(sm->parts[i].path);
        myfree(sm->parts[i].name);
        myfree(sm->parts[i].declared);
        myfree(sm->parts[i].type);
        myfree(sm->parts[i].detail);
    }
    sm->nparts = 0;
}

/* scanmode_utf8_len - the length of a valid UTF-8 sequence at s, or 0 */
static int scanmode_utf8_len(const unsigned char *s)
{
    int     n, i;
    unsigned cp;

    if (*s < 0xc2 || *s > 0xf4)
        return 0;
    n = *s >= 0xf0 ? 4 : *s >= 0xe0 ? 3 : 2;
    cp = *s & (0x7f >> n);
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff))
        || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* scanmode_json_string - s as a JSON string: controls escaped, bytes
 * that are not UTF-8 become U+FFFD */
static void scanmode_json_string(VBUF *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    int     n;

    vbuf_addch(out, '"');
    while (*p) {
        if (*p == '"' || *p == '\\') {
            vbuf_addch(out, '\\');
            vbuf_addch(out, *p++);
        } else if (*p < 0x20 || *p == 0x7f) {
            vbuf_sprintf_append(out, "\\u%04x", *p++);
        } else if (*p < 0x80) {
            vbuf_addch(out, *p++);
        } else if ((n = scanmode_utf8_len(p)) > 0) {
            vbuf_append(out, p, (size_t)n);
            p += n;
        } else {
            vbuf_strcat(out, "\\ufffd");
            p++;
        }
    }
    vbuf_addch(out, '"');
}

/* scanmode_flush - what is in out, to stdout */
static void scanmode_flush(SCANMODE *sm)
{
    fwrite(vbuf_str(sm->out), 1, vbuf_len(sm->out), stdout);
    vbuf_reset(sm->out);
}

/* scanmode_json - one message as one JSON object on one line */
static void scanmode_json(SCANMODE *sm, const char *file, long long size, const DECISION *d)
{
    VBUF   *out = sm->out;
    const SCANMODE_PART *sp;
    int     i;

    vbuf_strcat(out, "{\"file\":");
    scanmode_json_string(out, file);
    vbuf_sprintf_append(out, ",\"size\":%lld,\"verdict\":\"%s\",\"action\":\"%s\",\"detail\":",
                        size, verdict_names[d->verdict], action_names[d->action]);
    scanmode_json_string(out, vbuf_str(d->detail));
    vbuf_strcat(out, ",\"virus\":");
    scanmode_json_string(out, vbuf_str(d->virname));
    vbuf_strcat(out, ",\"parts\":[");
    for (i = 0; i < sm->nparts; i++) {
        sp = &sm->parts[i];
        vbuf_strcat(out, i ? ",{\"part\":" : "{\"part\":");
        scanmode_json_string(out, sp->path);
        vbuf_sprintf_append(out, ",\"kind\":\"%s\",\"name\":", sp->kind);
        scanmode_json_string(out, sp->name);
        vbuf_strcat(out, ",\"declared\":");
        scanmode_json_string(out, sp->declared);
        vbuf_strcat(out, ",\"type\":");
        if (sp->type)
            scanmode_json_string(out, sp->type);
        else
            vbuf_strcat(out, "null");
        if (sp->size >= 0)
            vbuf_sprintf_append(out, ",\"size\":%lld", sp->size);
        else
            vbuf_strcat(out, ",\"size\":null");
        vbuf_sprintf_append(out, ",\"finding\":\"%s\",\"detail\":", verdict_names[sp->verdict]);
        scanmode_json_string(out, sp->detail);
        vbuf_addch(out, '}');
        scanmode_flush(sm);
    }
    vbuf_strcat(out, "]}\n");
}

/* scanmode_text - one message for a person: a line per part, then the
 * verdict line */
static void scanmode_text(SCANMODE *sm, const char *file, long long size, const DECISION *d)
{
    VBUF   *out = sm->out;
    const SCANMODE_PART *sp;
    int     i;

    for (i = 0; i < sm->nparts; i++) {
        sp = &sm->parts[i];
        vbuf_sprintf_append(out, "%s: %s %s: name=", file, sp->kind, *sp->path ? sp->path : "-");
        vbuf_quote_append(out, sp->name);
        vbuf_sprintf_append(out, ", declared=%s, type=%s", *sp->declared ? sp->declared : "-",
                            sp->type ? sp->type : "-");
        if (sp->size >= 0)
            vbuf_sprintf_append(out, ", size=%lld", sp->size);
        vbuf_sprintf_append(out, ", finding=%s", verdict_names[sp->verdict]);
        if (*sp->detail) {
            vbuf_strcat(out, " ");
            vbuf_quote_append(out, sp->detail);
        }
        vbuf_addch(out, '\n');
        scanmode_flush(sm);
    }
    vbuf_sprintf_append(out, "%s: verdict=%s, action=%s, size=%lld, parts=%d", file,
                        verdict_names[d->verdict], action_names[d->action], size, sm->nparts);
    if (vbuf_len(d->detail)) {
        vbuf_strcat(out, ", detail=");
        vbuf_quote_append(out, vbuf_str(d->detail));
    }
    vbuf_addch(out, '\n');
}

/* scanmode_capture - the message from fd into the spool file, as pipe
 * mode captures it (past message_size_limit only what the oversize
 * action keeps); -1 with why in err */
static int scanmode_capture(int in, int fd, long long *size, int *oversize, VBUF *err)
{
    char    buf[65536];
    long    limit = var_message_size_limit;
    int     writing = 1;
    ssize_t n;

    *size = 0;
    *oversize = 0;
    for (;;) {
        if ((n = read(in, buf, sizeof(buf))) < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            vbuf_sprintf(err, "read: %s", strerror(errno));
            return -1;
        }
        if (n == 0)
            return 0;
        *size += n;
        if (limit > 0 && *size > limit && !*oversize) {
            *oversize = 1;
            writing = outcome_keeps_message(action_for_oversize());
        }
        if (writing && spool_write_all(fd, buf, (size_t)n) < 0) {
            vbuf_sprintf(err, "write to spool: %s", strerror(errno));
            return -1;
        }
    }
}

/* scanmode_error - a message that could not be read: say so, status 2 */
static int scanmode_error(SCANMODE *sm, const char *file, const char *why)
{
    if (sm->json) {
        vbuf_strcat(sm->out, "{\"file\":");
        scanmode_json_string(sm->out, file);
        vbuf_strcat(sm->out, ",\"verdict\":null,\"error\":");
        scanmode_json_string(sm->out, why);
        vbuf_strcat(sm->out, "}\n");
    } else {
        vbuf_sprintf(sm->out, "%s: error: %s\n", file, why);
    }
    scanmode_flush(sm);
    return SCANMODE_ERROR;
}

/* scanmode_status - a verdict as an exit status */
static int scanmode_status(VERDICT v)
{
    return v == VERDICT_CLEAN ? SCANMODE_CLEAN : v == VERDICT_ERROR ? SCANMODE_ERROR
        : SCANMODE_FOUND;
}

/* scanmode_one - one message: spool, decide, print; its exit status */
static int scanmode_one(SCANMODE *sm, const char *file, VBUF *err)
{
    DECISION d;
    long long size;
    int     in, fd, oversize, status;
    const char *shown = strcmp(file, "-") == 0 ? "stdin" : file;

    if (strcmp(file, "-") == 0)
        in = STDIN_FILENO;
    else if ((in = open(file, O_RDONLY | O_NOCTTY)) < 0)
        return scanmode_error(sm, shown, strerror(errno));
    if ((fd = spool_create(var_spool_dir, err)) < 0
        || scanmode_capture(in, fd, &size, &oversize, err) < 0) {
        if (fd >= 0)
            (void)close(fd);
        if (in != STDIN_FILENO)
            (void)close(in);
        return scanmode_error(sm, shown, vbuf_str(err));
    }
    if (in != STDIN_FILENO)
        (void)close(in);
    decision_init(&d);
    decide_message(oversize ? NULL : sm->in, vbuf_str(sm->open_err), fd, oversize, &d);
    if (sm->json)
        scanmode_json(sm, shown, size, &d);
    else
        scanmode_text(sm, shown, size, &d);
    scanmode_flush(sm);
    status = scanmode_status(d.verdict);
    decision_free(&d);
    (void)close(fd);
    scanmode_parts_free(sm);
    return status;
}

/* scanmode_main - every file, the worst status */
int     scanmode_main(int json, char *const *files, int nfiles)
{
    static char dash[] = "-";
    static char *const stdin_only[] = {dash};
    SCANMODE sm;
    VBUF   *err = vbuf_alloc(4096);
    int     i, status, worst = SCANMODE_CLEAN;

    memset(&sm, 0, sizeof(sm));
    sm.json = json;
    sm.out = vbuf_alloc(SCANMODE_TEXT_CAP);
    sm.open_err = vbuf_alloc(4096);
    if (nfiles == 0) {
        files = stdin_only;
        nfiles = 1;
    }
    if ((sm.in = inspector_open(sm.open_err)) == NULL)
        msg_warn("%s", vbuf_str(sm.open_err));
    else
        inspector_report(sm.in, scanmode_part, &sm);
    for (i = 0; i < nfiles; i++) {
        vbuf_reset(err);
        if ((status = scanmode_one(&sm, files[i], err)) > worst)
            worst = status;
    }
    fflush(stdout);
    inspector_close(sm.in);
    scanmode_cleanup();
    myfree(sm.parts);
    vbuf_free(sm.out);
    vbuf_free(sm.open_err);
    vbuf_free(err);
    return worst;
}
