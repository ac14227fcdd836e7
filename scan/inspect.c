/*
 * inspect - from a spooled message to a verdict (see inspect.h)
 *
 * mimewalk hands over each decoded leaf part, each preamble and epilogue,
 * and the file names of parts it could only name; here each gets its
 * libmagic type, the banned rules (for every file name its headers give,
 * not only the one GMime picked), the members of an archive (names and
 * true types through archive_walk), the inline files of a text (uuencode,
 * yEnc, BinHex: each one gets all of this in turn) and the malware
 * scanner. Parts deeper than mime_max_depth get everything but the
 * scanner. Each finding competes for the message verdict in the order of
 * the VERDICT enum (docs/DESIGN.md, Contracts; banned beats unchecked);
 * the first finding of the worst kind names the detail.
 *
 * When the MIME structure is ambiguous, a MIME limit cut the walk short or
 * the message holds NUL bytes, the raw message also goes through the
 * scanner whole: libclamav's own mail parser may read other parts than
 * GMime did, and malware seen in any reading wins. What stays ambiguous or
 * unwalked is unchecked.
 */
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "scan/archive.h"
#include "scan/avscan.h"
#include "scan/banned.h"
#include "scan/filetype.h"
#include "scan/inline.h"
#include "scan/inspect.h"
#include "scan/logline.h"
#include "scan/mimewalk.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/params.h"

#define INSPECT_DETAIL_CAP  4096
#define INSPECT_NAME_SHOWN  256         /* file names in details are cut */

/*
 * libclamav's mail parser keeps every line of a message it scans whole:
 * measured with 1.4.6, about 100 bytes a line, and about 600 for a line
 * that starts with "--" once multiparts nest (10 MB of "--x" lines under
 * 50 nested multiparts: 1.3 GB). A raw scan estimated above this is not
 * run; the message is unchecked instead.
 */
#define INSPECT_RAW_COST_MAX    (256LL * 1024 * 1024)
#define INSPECT_RAW_LINE_COST   128
#define INSPECT_RAW_DASH_COST   640

struct INSPECTOR {
    FILETYPE *filetype;
    AVSCAN *avscan;
    BANNED *banned;                     /* the banned_* rules as they were at open */
    VBUF   *virname;                    /* scratch, per scan */
    VBUF   *err;                        /* scratch, per scan */
    VBUF   *text;                       /* scratch, per finding */
    char   *type;                       /* true type of the current part */
    INSPECT_REPORT_FN report;           /* the part report, or NULL */
    void   *report_context;
    VBUF   *part_detail;                /* the current part's worst finding */
};

typedef struct INSPECT_STATE {
    INSPECTOR *in;
    INSPECT_RESULT *res;
    long    inline_files;               /* inline files inspected so far */
    int     limit;                      /* an inline limit was passed */
    int     in_part;                    /* inspect_part() is at work */
    VERDICT part_verdict;               /* the current part's worst finding */
} INSPECT_STATE;

/* Where a finding is: a part, or an inline file in it. */
typedef struct WHERE {
    const MIMEWALK_PART *part;
    const INLINE_FILE *file;            /* NULL: the part itself */
} WHERE;

typedef struct ARCHIVE_STATE {
    INSPECT_STATE *st;
    const WHERE *wh;
} ARCHIVE_STATE;

typedef struct INLINE_STATE {
    INSPECT_STATE *st;
    const MIMEWALK_PART *part;
} INLINE_STATE;

/* inspector_open - GMime, libmagic, scanner and banned rules */
INSPECTOR *inspector_open(VBUF *err)
{
    INSPECTOR *in;
    FILETYPE *ft;
    AVSCAN *av;

    mimewalk_init();
    if ((ft = filetype_open(err)) == NULL)
        return NULL;
    if ((av = avscan_open(var_scanner, var_clamav_database_directory, err)) == NULL) {
        filetype_close(ft);
        return NULL;
    }
    filetype_text_fast(ft, var_banned_types);
    in = mymalloc(sizeof(*in));
    in->filetype = ft;
    in->avscan = av;
    in->banned = banned_open();
    in->virname = vbuf_alloc(1024);
    in->err = vbuf_alloc(1024);
    in->text = vbuf_alloc(INSPECT_DETAIL_CAP);
    in->type = NULL;
    in->report = NULL;
    in->report_context = NULL;
    in->part_detail = vbuf_alloc(INSPECT_DETAIL_CAP);
    /* The last engine opened is the one this process scans with (a
     * daemon's workers are forked after the load). */
    logline_set_test_signatures(avscan_test_signatures(av));
    return in;
}

/* inspector_close - release everything, NULL allowed */
void inspector_close(INSPECTOR *in)
{
    if (in == NULL)
        return;
    avscan_close(in->avscan);
    filetype_close(in->filetype);
    banned_close(in->banned);
    vbuf_free(in->virname);
    vbuf_free(in->err);
    vbuf_free(in->text);
    vbuf_free(in->part_detail);
    myfree(in->type);
    myfree(in);
}

/* inspector_report - the part report hook */
void inspector_report(INSPECTOR *in, INSPECT_REPORT_FN fn, void *context)
{
    in->report = fn;
    in->report_context = context;
}

/* inspector_engine - the scanner's version text */
const char *inspector_engine(INSPECTOR *in)
{
    return avscan_version(in->avscan);
}

/* inspector_avscan - the malware scanner */
AVSCAN *inspector_avscan(INSPECTOR *in)
{
    return in->avscan;
}

/* inspect_result_init - a clean result with its buffers */
void inspect_result_init(INSPECT_RESULT *res)
{
    res->verdict = VERDICT_CLEAN;
    res->detail = vbuf_alloc(INSPECT_DETAIL_CAP);
    res->virname = vbuf_alloc(1024);
    res->nparts = 0;
    res->reject_code = 0;
    res->reject_dsn[0] = 0;
    res->replacement = -1;
}

/* inspect_result_free - release the buffers */
void inspect_result_free(INSPECT_RESULT *res)
{
    vbuf_free(res->detail);
    vbuf_free(res->virname);
    res->detail = res->virname = NULL;
    if (res->replacement >= 0)
        (void)close(res->replacement);
    res->replacement = -1;
}

/* inspect_finding - record a finding when it is worse than what we have */
static void inspect_finding(INSPECT_STATE *st, VERDICT verdict, const char *detail,
                            const char *virname)
{
    INSPECT_RESULT *res = st->res;

    msg_debug("finding: %s: %s", verdict_names[verdict], detail);
    if (st->in_part && verdict > st->part_verdict) {
        st->part_verdict = verdict;
        vbuf_strcpy(st->in->part_detail, detail);
    }
    if (verdict <= res->verdict)
        return;
    res->verdict = verdict;
    vbuf_strcpy(res->detail, detail);
    vbuf_strcpy(res->virname, verdict == VERDICT_INFECTED && virname ? virname : "");
}

/* inspect_where - where a finding is: ' in part 1.2 "name"', ' in the
 * preamble of part 2', ' in uuencoded file "x.exe" in part 1', ' in the
 * raw message', ...; named: add the part's file name after its number */
static void inspect_where(VBUF *text, const WHERE *wh, int named)
{
    const MIMEWALK_PART *p = wh ? wh->part : NULL;
    char    shown[INSPECT_NAME_SHOWN];

    if (p == NULL) {
        vbuf_strcat(text, " in the raw message");
        return;
    }
    if (wh->file != NULL)
        vbuf_sprintf_append(text, " in %s file \"%s\"", inline_kind_names[wh->file->kind],
                            msg_printable(shown, sizeof(shown), wh->file->name));
    switch (p->kind) {
    case MIMEWALK_NAMES:
        if (p->path == NULL)
            vbuf_sprintf_append(text, " in a MIME header at offset %lld", (long long)p->offset);
        else
            vbuf_sprintf_append(text, " in part %s (beyond the MIME part limit)", p->path);
        return;
    case MIMEWALK_PREAMBLE:
    case MIMEWALK_EPILOGUE:
        vbuf_sprintf_append(text, " in the %s of %s%s",
                            p->kind == MIMEWALK_PREAMBLE ? "preamble" : "epilogue",
                            *p->path ? "part " : "the message", p->path);
        return;
    case MIMEWALK_LEAF:
        vbuf_sprintf_append(text, " in part %s", p->path);
        if (named && wh->file == NULL && p->filename && *p->filename)
            vbuf_sprintf_append(text, " \"%s\"", msg_printable(shown, sizeof(shown), p->filename));
        return;
    }
}

/* inspect_unchecked_name - what a "could not inspect" detection means */
static const char *inspect_unchecked_name(const char *virname)
{
    if (strncasecmp(virname, "Heuristics.Encrypted", 20) == 0)
        return "encrypted archive";
    if (strncasecmp(virname, "Heuristics.Limits", 17) == 0)
        return "scan limits exceeded";
    return "could not be inspected";
}

/* inspect_scan - run the scanner on bytes (fd < 0) or a file; wh NULL
 * means the raw message */
static void inspect_scan(INSPECT_STATE *st, const unsigned char *data, size_t size,
                         int fd, const WHERE *wh)
{
    INSPECTOR *in = st->in;
    char    shown[INSPECT_NAME_SHOWN];
    int     rc;

    vbuf_reset(in->virname);
    vbuf_reset(in->err);
    if (fd >= 0)
        rc = avscan_scan_fd(in->avscan, fd, in->virname, in->err);
    else
        rc = avscan_scan_mem(in->avscan, data, size, in->virname, in->err);
    switch (rc) {
    case AV_CLEAN:
        return;
    case AV_VIRUS:
        if (avscan_heuristic_unchecked(vbuf_str(in->virname))) {
            vbuf_strcpy(in->text, inspect_unchecked_name(vbuf_str(in->virname)));
            inspect_where(in->text, wh, 1);
            vbuf_sprintf_append(in->text, " (%s)",
                                msg_printable(shown, sizeof(shown), vbuf_str(in->virname)));
            inspect_finding(st, VERDICT_UNCHECKED, vbuf_str(in->text), NULL);
        } else {
            msg_printable(shown, sizeof(shown), vbuf_str(in->virname));
            vbuf_strcpy(in->text, shown);
            inspect_where(in->text, wh, 1);
            inspect_finding(st, VERDICT_INFECTED, vbuf_str(in->text), shown);
        }
        return;
    default:
        vbuf_strcpy(in->text, "scanner error");
        inspect_where(in->text, wh, 1);
        vbuf_sprintf_append(in->text, ": %s", vbuf_len(in->err) ? vbuf_str(in->err) : "unknown error");
        msg_warn("%s", vbuf_str(in->text));
        inspect_finding(st, VERDICT_ERROR, vbuf_str(in->text), NULL);
        return;
    }
}

/* inspect_banned_found - a banned rule matched: in->text has its words */
static void inspect_banned_found(INSPECT_STATE *st, const WHERE *wh)
{
    inspect_where(st->in->text, wh, 0);
    inspect_finding(st, VERDICT_BANNED, vbuf_str(st->in->text), NULL);
}

/* inspect_banned - the banned rules for every name the part carries */
static void inspect_banned(INSPECT_STATE *st, const MIMEWALK_PART *p, const char *type,
                           const WHERE *wh)
{
    INSPECTOR *in = st->in;
    int     hit, i;

    hit = banned_name(in->banned, p->filename, in->text);
    for (i = 0; !hit && i < p->nnames; i++)
        hit = banned_name(in->banned, p->names[i], in->text);
    if (!hit && type != NULL)
        hit = banned_type(in->banned, type, p->filename, in->text);
    if (hit)
        inspect_banned_found(st, wh);
}

/* inspect_member - archive_walk callback: one member's name and type */
static int inspect_member(const ARCHIVE_MEMBER *m, void *context)
{
    ARCHIVE_STATE *as = context;
    INSPECT_STATE *st = as->st;
    INSPECTOR *in = st->in;
    char    shown[INSPECT_NAME_SHOWN];
    const char *type = NULL;
    int     hit;

    if (m->head != NULL && m->headlen > 0)
        type = filetype_buffer(in->filetype, m->head, m->headlen);
    if (msg_verbose)
        msg_debug("archive member \"%s\" in \"%s\": type=%s size=%lld%s",
                  msg_printable(shown, sizeof(shown), m->name ? m->name : ""),
                  m->container ? m->container : "", type ? type : "-", m->size,
                  m->encrypted ? " (encrypted)" : "");
    hit = banned_name(in->banned, m->name, in->text);
    if (!hit && type != NULL)
        hit = banned_type(in->banned, type, m->name, in->text);
    if (hit) {
        if (m->container && *m->container)
            vbuf_sprintf_append(in->text, " in archive \"%s\"",
                                msg_printable(shown, sizeof(shown), m->container));
        else
            vbuf_strcat(in->text, " in an archive");
        inspect_banned_found(st, as->wh);
    }
    return 0;
}

/* inspect_archive - list the members of an archive part or file */
static void inspect_archive(INSPECT_STATE *st, const unsigned char *data, size_t size,
                            int fd, const char *name, const WHERE *wh)
{
    INSPECTOR *in = st->in;
    ARCHIVE_LIMITS limits;
    ARCHIVE_STATE as;
    char    shown[INSPECT_NAME_SHOWN];
    int     rc;

    if (size == 0)
        return;
    limits.max_depth = (int)var_archive_max_depth;
    limits.max_members = var_archive_max_members;
    limits.max_bytes = var_archive_max_bytes;
    as.st = st;
    as.wh = wh;
    vbuf_reset(in->err);
    rc = archive_walk(data, size, data ? -1 : fd, name, &limits, inspect_member, &as, in->err);
    if (rc == ARCHIVE_UNCHECKED) {
        vbuf_sprintf(in->text, "archive not fully listed (%s)",
                     msg_printable(shown, sizeof(shown),
                                   vbuf_len(in->err) ? vbuf_str(in->err) : "unknown reason"));
        inspect_where(in->text, wh, 1);
        inspect_finding(st, VERDICT_UNCHECKED, vbuf_str(in->text), NULL);
    } else if (rc == ARCHIVE_ERROR) {
        /* Our failure, not the archive's: never passed, as unchecked may be. */
        vbuf_strcpy(in->text, "archive scanner error");
        inspect_where(in->text, wh, 1);
        vbuf_sprintf_append(in->text, ": %s", vbuf_len(in->err) ? vbuf_str(in->err) : "unknown error");
        msg_warn("%s", vbuf_str(in->text));
        inspect_finding(st, VERDICT_ERROR, vbuf_str(in->text), NULL);
    }
}

/* inspect_text_like - worth a look for uuencode, yEnc and BinHex */
static int inspect_text_like(const MIMEWALK_PART *p, const char *type)
{
    return p->kind == MIMEWALK_PREAMBLE || p->kind == MIMEWALK_EPILOGUE
        || *p->declared == 0 || strncasecmp(p->declared, "text/", 5) == 0
        || (type != NULL && strncasecmp(type, "text/", 5) == 0);
}

/* inspect_boring - a preamble or epilogue that is empty or only says what
 * MIME is: no need to type it or hand it to the scanner */
static int inspect_boring(const MIMEWALK_PART *p)
{
    static const char *const phrases[] = {
        "This is a multi-part message in MIME format.",
        "This is a multipart message in MIME format.",
        "This is a MIME-encapsulated message.",
        "This is a MIME-encapsulated message",
        "This is a message in MIME format.",
        "This is a message with multiple parts in MIME format.",
        NULL,
    };
    const char *text = (const char *)p->data;
    size_t  len = p->size, i;

    if (p->kind != MIMEWALK_PREAMBLE && p->kind != MIMEWALK_EPILOGUE)
        return 0;
    while (len > 0 && strchr(" \t\r\n", text[len - 1]) != NULL)
        len--;
    while (len > 0 && strchr(" \t\r\n", *text) != NULL) {
        text++;
        len--;
    }
    if (len == 0)
        return 1;
    for (i = 0; phrases[i]; i++)
        if (strlen(phrases[i]) == len && memcmp(phrases[i], text, len) == 0)
            return 1;
    return 0;
}

/* inspect_inline_file - inline_scan callback: a decoded uuencode, yEnc or
 * BinHex file gets what an attachment gets */
static int inspect_inline_file(const INLINE_FILE *f, void *context)
{
    INLINE_STATE *is = context;
    INSPECT_STATE *st = is->st;
    INSPECTOR *in = st->in;
    WHERE   wh;
    char    shown[INSPECT_NAME_SHOWN];
    const char *type;
    int     hit;

    wh.part = is->part;
    wh.file = f;
    st->inline_files++;
    type = f->data ? filetype_buffer(in->filetype, f->data, f->size)
        : filetype_fd(in->filetype, f->fd);
    if (msg_verbose)
        msg_debug("%s file \"%s\" in part %s: type=%s size=%zu%s%s", inline_kind_names[f->kind],
                  msg_printable(shown, sizeof(shown), f->name), is->part->path, type, f->size,
                  f->problem ? ": " : "", f->problem ? f->problem : "");
    hit = banned_name(in->banned, f->name, in->text);
    if (!hit)
        hit = banned_type(in->banned, type, f->name, in->text);
    if (hit)
        inspect_banned_found(st, &wh);
    inspect_archive(st, f->data, f->size, f->fd, f->name, &wh);
    if (f->size > 0 && !is->part->cheap)
        inspect_scan(st, f->data, f->size, f->data ? -1 : f->fd, &wh);
    if (f->problem) {
        vbuf_sprintf(in->text, "%s file \"%s\" incomplete (%s)", inline_kind_names[f->kind],
                     msg_printable(shown, sizeof(shown), f->name), f->problem);
        wh.file = NULL;
        inspect_where(in->text, &wh, 1);
        inspect_finding(st, VERDICT_UNCHECKED, vbuf_str(in->text), NULL);
    }
    return 0;
}

/* inspect_inline - look for inline files in a text part */
static void inspect_inline(INSPECT_STATE *st, const MIMEWALK_PART *p)
{
    INSPECTOR *in = st->in;
    INLINE_LIMITS limits;
    INLINE_STATE is;
    WHERE   wh;
    long    found;

    limits.max_files = var_mime_max_parts > st->inline_files ? var_mime_max_parts - st->inline_files : 0;
    limits.max_bytes = var_clamav_max_filesize;
    is.st = st;
    is.part = p;
    found = inline_scan(p->data, p->size, p->data ? -1 : p->fd, var_spool_dir, &limits,
                        inspect_inline_file, &is, in->err);
    if (found < 0) {
        vbuf_sprintf(in->text, "inline file error");
        wh.part = p;
        wh.file = NULL;
        inspect_where(in->text, &wh, 1);
        vbuf_sprintf_append(in->text, ": %s", vbuf_str(in->err));
        msg_warn("%s", vbuf_str(in->text));
        inspect_finding(st, VERDICT_ERROR, vbuf_str(in->text), NULL);
    } else if (found > limits.max_files) {
        st->limit = 1;
        inspect_finding(st, VERDICT_UNCHECKED, "too many inline files", NULL);
    }
}

/* inspect_names_only - file names without content: banned rules only */
static void inspect_names_only(INSPECT_STATE *st, const MIMEWALK_PART *p)
{
    WHERE   wh;

    wh.part = p;
    wh.file = NULL;
    inspect_banned(st, p, NULL, &wh);
}

/* inspect_content - a part with content: type, banned rules, archives,
 * inline files, scanner */
static void inspect_content(INSPECT_STATE *st, const MIMEWALK_PART *p)
{
    INSPECTOR *in = st->in;
    char    shown[INSPECT_NAME_SHOWN];
    WHERE   wh;

    wh.part = p;
    wh.file = NULL;
    myfree(in->type);
    in->type = mystrdup(p->data ? filetype_buffer(in->filetype, p->data, p->size)
                        : filetype_fd(in->filetype, p->fd));
    if (msg_verbose)
        msg_debug("part %s%s: name=\"%s\" declared=%s type=%s size=%zu%s%s", p->path,
                  p->kind == MIMEWALK_PREAMBLE ? " preamble"
                  : p->kind == MIMEWALK_EPILOGUE ? " epilogue" : "",
                  msg_printable(shown, sizeof(shown), p->filename),
                  *p->declared ? p->declared : "-", in->type, p->size,
                  p->data ? "" : " (on disk)", p->cheap ? " (too deep: no scan)" : "");
    inspect_banned(st, p, in->type, &wh);
    if (p->kind == MIMEWALK_LEAF)
        inspect_archive(st, p->data, p->size, p->fd, p->filename, &wh);
    if (p->size > 0 && inspect_text_like(p, in->type))
        inspect_inline(st, p);
    if (p->size > 0 && !p->cheap)
        inspect_scan(st, p->data, p->size, p->data ? -1 : p->fd, &wh);
}

/* inspect_part - the mimewalk callback: names only, or content; then
 * the part report */
static int inspect_part(const MIMEWALK_PART *p, void *context)
{
    INSPECT_STATE *st = context;
    INSPECTOR *in = st->in;
    INSPECT_PART rep;

    /* Most multiparts say "This is a multi-part message...": nothing to do. */
    if (p->kind != MIMEWALK_NAMES && inspect_boring(p))
        return 0;
    st->in_part = 1;
    st->part_verdict = VERDICT_CLEAN;
    vbuf_reset(in->part_detail);
    if (p->kind == MIMEWALK_NAMES)
        inspect_names_only(st, p);
    else
        inspect_content(st, p);
    st->in_part = 0;
    if (in->report) {
        rep.part = p;
        rep.type = p->kind == MIMEWALK_NAMES ? NULL : in->type;
        rep.verdict = st->part_verdict;
        rep.detail = vbuf_str(in->part_detail);
        in->report(&rep, in->report_context);
    }
    return 0;
}

/* inspect_other_readings - libclamav's own mail parser on the raw
 * message, when GMime's reading is in doubt, cut short, or stopped at NUL
 * bytes; what stays in doubt is unchecked */
static void inspect_other_readings(INSPECT_STATE *st, int fd, const MIMEWALK_INFO *info)
{
    INSPECTOR *in = st->in;
    long long cost;

    if (vbuf_len(info->ambiguous)) {
        vbuf_sprintf(in->text, "ambiguous MIME (%s)", vbuf_str(info->ambiguous));
        inspect_finding(st, VERDICT_UNCHECKED, vbuf_str(in->text), NULL);
    }
    if (vbuf_len(info->limit))
        inspect_finding(st, VERDICT_UNCHECKED, vbuf_str(info->limit), NULL);
    if (vbuf_len(info->unreadable))
        inspect_finding(st, VERDICT_UNCHECKED, vbuf_str(info->unreadable), NULL);
    if (!(vbuf_len(info->ambiguous) || vbuf_len(info->limit) || info->nul || st->limit)
        || st->res->verdict >= VERDICT_INFECTED)
        return;
    cost = INSPECT_RAW_LINE_COST * (long long)info->lines
        + INSPECT_RAW_DASH_COST * (long long)info->dash_lines;
    if (cost <= INSPECT_RAW_COST_MAX) {
        inspect_scan(st, NULL, 0, fd, NULL);
    } else {
        vbuf_sprintf(in->text, "raw message not scanned (%ld lines, %ld starting with"
                     " \"--\": too costly for the mail parser)", info->lines, info->dash_lines);
        inspect_finding(st, VERDICT_UNCHECKED, vbuf_str(in->text), NULL);
    }
}

/* inspect_commands - the command scanners on the whole message, unless
 * it is banned, infected or in error already (their answer could not
 * change the action then) */
static void inspect_commands(INSPECT_STATE *st, int fd, const SMTP_ENVELOPE *env)
{
    INSPECTOR *in = st->in;
    INSPECT_RESULT *res = st->res;
    AVSCAN_REPLY reply;

    if (!avscan_has_message_scanners(in->avscan) || res->verdict >= VERDICT_BANNED)
        return;
    avscan_reply_init(&reply);
    switch (avscan_scan_message(in->avscan, fd, env, &reply, in->err)) {
    case AV_CLEAN:
        res->replacement = reply.fd;
        reply.fd = -1;
        break;
    case AV_REJECT:
        vbuf_sprintf(in->text, "%s (%s)", vbuf_str(reply.text), vbuf_str(reply.scanner));
        inspect_finding(st, VERDICT_REJECTED, vbuf_str(in->text), NULL);
        res->reject_code = reply.code;
        memcpy(res->reject_dsn, reply.dsn, sizeof(res->reject_dsn));
        break;
    default:
        vbuf_sprintf(in->text, "scanner error: %s",
                     vbuf_len(in->err) ? vbuf_str(in->err) : "unknown error");
        msg_warn("%s", vbuf_str(in->text));
        inspect_finding(st, VERDICT_ERROR, vbuf_str(in->text), NULL);
        break;
    }
    avscan_reply_free(&reply);
}

/* inspect_message - everything, from offset 0 of fd, without envelope */
void inspect_message(INSPECTOR *in, int fd, INSPECT_RESULT *res)
{
    inspect_message_env(in, fd, NULL, res);
}

/* inspect_message_env - everything, from offset 0 of fd */
void inspect_message_env(INSPECTOR *in, int fd, const SMTP_ENVELOPE *env, INSPECT_RESULT *res)
{
    INSPECT_STATE st;
    MIMEWALK_INFO info;
    MIMEWALK_LIMITS limits;

    res->verdict = VERDICT_CLEAN;
    vbuf_reset(res->detail);
    vbuf_reset(res->virname);
    res->nparts = 0;
    res->reject_code = 0;
    res->reject_dsn[0] = 0;
    if (res->replacement >= 0)
        (void)close(res->replacement);
    res->replacement = -1;
    st.in = in;
    st.res = res;
    st.inline_files = 0;
    st.limit = 0;
    st.in_part = 0;
    st.part_verdict = VERDICT_CLEAN;

    limits.max_parts = var_mime_max_parts;
    limits.max_depth = var_mime_max_depth;
    limits.max_headers = var_mime_max_headers;
    mimewalk_info_init(&info);
    vbuf_reset(in->err);
    if (mimewalk(fd, var_spool_dir, &limits, inspect_part, &st, &info, in->err) < 0) {
        vbuf_sprintf(in->text, "MIME error: %s", vbuf_str(in->err));
        msg_warn("%s", vbuf_str(in->text));
        inspect_finding(&st, VERDICT_ERROR, vbuf_str(in->text), NULL);
    }
    res->nparts = info.nparts;
    inspect_other_readings(&st, fd, &info);
    inspect_commands(&st, fd, env);
    if (msg_verbose)
        msg_debug("message: %d parts%s, verdict %s%s%s", res->nparts,
                  info.not_mime ? " (not MIME)" : "", verdict_names[res->verdict],
                  vbuf_len(res->detail) ? ": " : "", vbuf_str(res->detail));
    mimewalk_info_free(&info);
}
