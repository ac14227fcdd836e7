/*
 * inspect - from a spooled message to a verdict (see inspect.h)
 *
 * mimewalk hands over each decoded leaf part; here it gets its libmagic
 * type, the banned rules (for every file name its headers give, not only
 * the one GMime picked) and the malware scanner. Each finding competes for
 * the message verdict in the order of DESIGN §5; the first finding of the
 * worst kind names the detail.
 *
 * When the MIME structure is ambiguous or a MIME limit cut the walk short,
 * the raw message also goes through the scanner whole: libclamav's own
 * mail parser may read other parts than GMime did, and malware seen in any
 * reading wins. What stays ambiguous or unwalked is unchecked.
 */
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "filter/avscan.h"
#include "filter/banned.h"
#include "filter/filetype.h"
#include "filter/inspect.h"
#include "filter/mimewalk.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/params.h"

#define INSPECT_DETAIL_CAP  4096
#define INSPECT_NAME_SHOWN  256         /* file names in details are cut */

struct INSPECTOR {
    FILETYPE *filetype;
    AVSCAN *avscan;
    VBUF   *virname;                    /* scratch, per scan */
    VBUF   *err;                        /* scratch, per scan */
    VBUF   *text;                       /* scratch, per finding */
    char   *type;                       /* true type of the current part */
};

typedef struct INSPECT_STATE {
    INSPECTOR *in;
    INSPECT_RESULT *res;
} INSPECT_STATE;

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
    banned_init();
    in = mymalloc(sizeof(*in));
    in->filetype = ft;
    in->avscan = av;
    in->virname = vbuf_alloc(1024);
    in->err = vbuf_alloc(1024);
    in->text = vbuf_alloc(INSPECT_DETAIL_CAP);
    in->type = NULL;
    return in;
}

/* inspector_close - release everything, NULL allowed */
void inspector_close(INSPECTOR *in)
{
    if (in == NULL)
        return;
    avscan_close(in->avscan);
    filetype_close(in->filetype);
    banned_free();
    vbuf_free(in->virname);
    vbuf_free(in->err);
    vbuf_free(in->text);
    myfree(in->type);
    myfree(in);
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
}

/* inspect_result_free - release the buffers */
void inspect_result_free(INSPECT_RESULT *res)
{
    vbuf_free(res->detail);
    vbuf_free(res->virname);
    res->detail = res->virname = NULL;
}

/* inspect_finding - record a finding when it is worse than what we have */
static void inspect_finding(INSPECT_STATE *st, VERDICT verdict, const char *detail,
                            const char *virname)
{
    INSPECT_RESULT *res = st->res;

    msg_debug("finding: %s: %s", verdict_names[verdict], detail);
    if (verdict <= res->verdict)
        return;
    res->verdict = verdict;
    vbuf_strcpy(res->detail, detail);
    vbuf_strcpy(res->virname, verdict == VERDICT_INFECTED && virname ? virname : "");
}

/* inspect_where - ' in part 1.2 "name"' or ' in the raw message' */
static void inspect_where(VBUF *text, const char *path, const char *filename)
{
    char    shown[INSPECT_NAME_SHOWN];

    if (path == NULL) {
        vbuf_strcat(text, " in the raw message");
        return;
    }
    vbuf_sprintf_append(text, " in part %s", path);
    if (filename && *filename)
        vbuf_sprintf_append(text, " \"%s\"", msg_printable(shown, sizeof(shown), filename));
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

/* inspect_scan - run the scanner on bytes (fd < 0) or a file; path NULL
 * means the raw message */
static void inspect_scan(INSPECT_STATE *st, const unsigned char *data, size_t size,
                         int fd, const char *path, const char *filename)
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
            inspect_where(in->text, path, filename);
            vbuf_sprintf_append(in->text, " (%s)",
                                msg_printable(shown, sizeof(shown), vbuf_str(in->virname)));
            inspect_finding(st, VERDICT_UNCHECKED, vbuf_str(in->text), NULL);
        } else {
            msg_printable(shown, sizeof(shown), vbuf_str(in->virname));
            vbuf_strcpy(in->text, shown);
            inspect_where(in->text, path, filename);
            inspect_finding(st, VERDICT_INFECTED, vbuf_str(in->text), shown);
        }
        return;
    default:
        vbuf_strcpy(in->text, "scanner error");
        inspect_where(in->text, path, filename);
        vbuf_sprintf_append(in->text, ": %s", vbuf_len(in->err) ? vbuf_str(in->err) : "unknown error");
        msg_warn("%s", vbuf_str(in->text));
        inspect_finding(st, VERDICT_ERROR, vbuf_str(in->text), NULL);
        return;
    }
}

/* inspect_banned - the banned rules for every name the part carries */
static void inspect_banned(INSPECT_STATE *st, const MIMEWALK_PART *p, const char *type)
{
    INSPECTOR *in = st->in;
    int     hit, i;

    hit = banned_name(p->filename, in->text);
    for (i = 0; !hit && i < p->nnames; i++)
        hit = banned_name(p->names[i], in->text);
    if (!hit)
        hit = banned_type(type, p->filename, in->text);
    if (hit) {
        vbuf_sprintf_append(in->text, " in part %s", p->path);
        inspect_finding(st, VERDICT_BANNED, vbuf_str(in->text), NULL);
    }
}

/* inspect_part - the mimewalk callback: type, banned rules, scanner */
static int inspect_part(const MIMEWALK_PART *p, void *context)
{
    INSPECT_STATE *st = context;
    INSPECTOR *in = st->in;
    char    shown[INSPECT_NAME_SHOWN];

    myfree(in->type);
    in->type = mystrdup(p->data ? filetype_buffer(in->filetype, p->data, p->size)
                        : filetype_fd(in->filetype, p->fd));
    if (msg_verbose)
        msg_debug("part %s: name=\"%s\" declared=%s type=%s size=%zu%s", p->path,
                  msg_printable(shown, sizeof(shown), p->filename),
                  *p->declared ? p->declared : "-", in->type, p->size,
                  p->data ? "" : " (on disk)");
    inspect_banned(st, p, in->type);
    if (p->size > 0)
        inspect_scan(st, p->data, p->size, p->data ? -1 : p->fd, p->path, p->filename);
    return 0;
}

/* inspect_message - everything, from offset 0 of fd */
void inspect_message(INSPECTOR *in, int fd, INSPECT_RESULT *res)
{
    INSPECT_STATE st;
    MIMEWALK_INFO info;

    res->verdict = VERDICT_CLEAN;
    vbuf_reset(res->detail);
    vbuf_reset(res->virname);
    res->nparts = 0;
    st.in = in;
    st.res = res;

    mimewalk_info_init(&info);
    vbuf_reset(in->err);
    if (mimewalk(fd, var_spool_dir, var_mime_max_parts, var_mime_max_depth,
                 inspect_part, &st, &info, in->err) < 0) {
        vbuf_sprintf(in->text, "MIME error: %s", vbuf_str(in->err));
        msg_warn("%s", vbuf_str(in->text));
        inspect_finding(&st, VERDICT_ERROR, vbuf_str(in->text), NULL);
    }
    res->nparts = info.nparts;

    /* Other readings of the message: libclamav's own mail parser. */
    if ((vbuf_len(info.ambiguous) || vbuf_len(info.limit)) && res->verdict < VERDICT_INFECTED)
        inspect_scan(&st, NULL, 0, fd, NULL, NULL);
    if (vbuf_len(info.ambiguous)) {
        vbuf_sprintf(in->text, "ambiguous MIME (%s)", vbuf_str(info.ambiguous));
        inspect_finding(&st, VERDICT_UNCHECKED, vbuf_str(in->text), NULL);
    }
    if (vbuf_len(info.limit))
        inspect_finding(&st, VERDICT_UNCHECKED, vbuf_str(info.limit), NULL);
    if (vbuf_len(info.unreadable))
        inspect_finding(&st, VERDICT_UNCHECKED, vbuf_str(info.unreadable), NULL);
    if (msg_verbose)
        msg_debug("message: %d parts%s, verdict %s%s%s", res->nparts,
                  info.not_mime ? " (not MIME)" : "", verdict_names[res->verdict],
                  vbuf_len(res->detail) ? ": " : "", vbuf_str(res->detail));
    mimewalk_info_free(&info);
}
