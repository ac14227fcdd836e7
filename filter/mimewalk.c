/*
 * mimewalk - walk the leaf parts of a spooled message with GMime (see
 * mimewalk.h)
 *
 * The parser reads a dup of the spool descriptor through a stream bounded
 * at offset 0, with persist_stream on, so part contents are substreams of
 * the file and never copied into memory by the parser; only decoding a
 * small part (encoded size under MIMEWALK_MEM_MAX, and decoding never
 * grows base64, quoted-printable or uuencoded data) fills memory.
 *
 * The parser's warning callback sorts GMime's findings: the GMIME_CRIT_*
 * ones mean another MIME reader (the recipient's, or libclamav's) may see
 * other parts than GMime does, so they make the structure ambiguous; the
 * others (a header repeated with the same value, 8-bit headers) are logged
 * at debug level only. GMime keeps one value of a repeated parameter, so
 * the raw Content-Type and Content-Disposition headers of every leaf are
 * parsed again for all their filename and name parameters: all of them go
 * to the banned rules, and two different values of one is ambiguous.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "filter/mimewalk.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/spool.h"

#define MIMEWALK_NAMES_MAX  16      /* file names kept per part */
#define MIMEWALK_NOTE_MAX   200     /* reasons beyond this are dropped */

typedef struct WALK {
    MIMEWALK_INFO *info;
    MIMEWALK_FN fn;
    void   *context;
    const char *spool_dir;
    VBUF   *err;
    VBUF   *tmp;                    /* scratch text */
    char   *names[MIMEWALK_NAMES_MAX];
    int     nnames;
} WALK;

/* mimewalk_init - GMime, once per process */
void mimewalk_init(void)
{
    static int done;

    if (!done) {
        g_mime_init();
        done = 1;
    }
}

/* mimewalk_info_init - empty findings */
void mimewalk_info_init(MIMEWALK_INFO *info)
{
    info->not_mime = 0;
    info->ambiguous = vbuf_alloc(1024);
    info->limit = vbuf_alloc(1024);
    info->unreadable = vbuf_alloc(1024);
    info->nparts = 0;
}

/* mimewalk_info_free - release findings */
void mimewalk_info_free(MIMEWALK_INFO *info)
{
    vbuf_free(info->ambiguous);
    vbuf_free(info->limit);
    vbuf_free(info->unreadable);
    info->ambiguous = info->limit = info->unreadable = NULL;
}

/* mimewalk_note - add a reason to a list, once, within a bound */
static void mimewalk_note(VBUF *list, const char *why)
{
    if (strstr(vbuf_str(list), why) != NULL || vbuf_len(list) > MIMEWALK_NOTE_MAX)
        return;
    if (vbuf_len(list) > 0)
        vbuf_strcat(list, ", ");
    vbuf_strcat(list, why);
}

/* mimewalk_warning - the parser's warning callback: note ambiguity */
static void mimewalk_warning(gint64 offset, GMimeParserWarning code,
                             const gchar *item, gpointer user_data)
{
    WALK   *w = user_data;
    char    pitem[64];

    msg_printable(pitem, sizeof(pitem), item ? item : "");
    switch (code) {
    case GMIME_CRIT_CONFLICTING_PARAMETER:
        vbuf_sprintf(w->tmp, "conflicting %s parameters", pitem);
        break;
    case GMIME_CRIT_CONFLICTING_HEADER:
        vbuf_sprintf(w->tmp, "conflicting %s headers", pitem);
        break;
    case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
        vbuf_strcpy(w->tmp, "multipart without boundary");
        break;
    case GMIME_CRIT_NESTING_OVERFLOW:
        vbuf_strcpy(w->tmp, "MIME nesting overflow");
        break;
    case GMIME_CRIT_INVALID_HEADER_NAME:
        vbuf_strcpy(w->tmp, "invalid header name");
        break;
    case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
        vbuf_strcpy(w->tmp, "part without headers or content");
        break;
    default:
        if (msg_verbose)
            msg_debug("MIME parser warning %d at offset %lld: \"%s\"",
                      (int)code, (long long)offset, pitem);
        return;
    }
    if (msg_verbose)
        msg_debug("MIME parser: %s at offset %lld", vbuf_str(w->tmp), (long long)offset);
    mimewalk_note(w->info->ambiguous, vbuf_str(w->tmp));
}

/* The callback must have the installed GMime's signature: this fails to
 * compile when it does not (it takes 4 arguments in 3.2.13). */
static const GMimeParserWarningFunc mimewalk_warning_fn = mimewalk_warning;

/* mimewalk_names_reset - forget the previous part's names */
static void mimewalk_names_reset(WALK *w)
{
    while (w->nnames > 0)
        myfree(w->names[--w->nnames]);
}

/* mimewalk_names - every filename and name parameter of the raw headers */
static void mimewalk_names(WALK *w, GMimeObject *obj)
{
    static const char *const kinds[] = {"filename", "name"};
    GMimeHeaderList *headers = g_mime_object_get_header_list(obj);
    char   *first[2] = {NULL, NULL};
    int     nheaders, i, j, k, n;

    if (headers == NULL)
        return;
    nheaders = g_mime_header_list_get_count(headers);
    for (i = 0; i < nheaders; i++) {
        GMimeHeader *header = g_mime_header_list_get_header_at(headers, i);
        const char *hname = g_mime_header_get_name(header);
        const char *raw = g_mime_header_get_raw_value(header);
        const char *semi;
        GMimeParamList *params;

        if (hname == NULL || raw == NULL
            || (strcasecmp(hname, "Content-Type") != 0
                && strcasecmp(hname, "Content-Disposition") != 0)
            || (semi = strchr(raw, ';')) == NULL
            || (params = g_mime_param_list_parse(NULL, semi)) == NULL)
            continue;
        n = g_mime_param_list_length(params);
        for (j = 0; j < n; j++) {
            GMimeParam *param = g_mime_param_list_get_parameter_at(params, j);
            const char *pname = g_mime_param_get_name(param);
            const char *value = g_mime_param_get_value(param);

            if (pname == NULL || value == NULL)
                continue;
            for (k = 0; k < 2 && strcasecmp(pname, kinds[k]) != 0; k++)
                 /* void */ ;
            if (k == 2)
                continue;
            if (first[k] == NULL) {
                first[k] = mystrdup(value);
            } else if (strcmp(first[k], value) != 0) {
                vbuf_sprintf(w->tmp, "conflicting %s parameters", kinds[k]);
                mimewalk_note(w->info->ambiguous, vbuf_str(w->tmp));
            }
            for (k = 0; k < w->nnames && strcmp(w->names[k], value) != 0; k++)
                 /* void */ ;
            if (k == w->nnames && w->nnames < MIMEWALK_NAMES_MAX)
                w->names[w->nnames++] = mystrdup(value);
        }
        g_object_unref(params);
    }
    myfree(first[0]);
    myfree(first[1]);
}

/* mimewalk_decode_file - decode content into a new spool file; -1 on error */
static int mimewalk_decode_file(WALK *w, GMimeDataWrapper *content, const char *path,
                                size_t *size)
{
    GMimeStream *out;
    off_t   len;
    int     fd, ok;

    if ((fd = spool_create(w->spool_dir, w->err)) < 0)
        return -1;
    out = g_mime_stream_fs_new(fd);
    g_mime_stream_fs_set_owner(GMIME_STREAM_FS(out), FALSE);
    errno = 0;
    ok = g_mime_data_wrapper_write_to_stream(content, out) >= 0
        && g_mime_stream_flush(out) == 0;
    g_object_unref(out);
    if (!ok || (len = spool_size(fd)) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
        vbuf_sprintf(w->err, "cannot decode MIME part %s into a spool file: %s",
                     path, errno ? strerror(errno) : "write error");
        close(fd);
        return -1;
    }
    *size = (size_t)len;
    return fd;
}

/* mimewalk_leaf - decode one leaf part and hand it to the callback;
 * -1 on error, 1 when the callback stops the walk, else 0 */
static int mimewalk_leaf(WALK *w, GMimeObject *obj, const char *path, int depth)
{
    GMimePart *part = GMIME_PART(obj);
    GMimeContentType *ctype = g_mime_object_get_content_type(obj);
    GMimeDataWrapper *content = g_mime_part_get_content(part);
    GMimeStream *mem = NULL;
    MIMEWALK_PART p;
    char   *declared;
    const char *fname;
    gint64  enc_len;
    int     rc;

    mimewalk_names_reset(w);
    mimewalk_names(w, obj);
    fname = g_mime_part_get_filename(part);
    declared = ctype ? g_mime_content_type_get_mime_type(ctype) : NULL;

    p.path = path;
    p.depth = depth;
    p.filename = fname ? fname : "";
    p.names = (const char *const *)w->names;
    p.nnames = w->nnames;
    p.declared = declared ? declared : "";
    p.data = (const unsigned char *)"";
    p.size = 0;
    p.fd = -1;

    if (content != NULL) {
        enc_len = g_mime_stream_length(g_mime_data_wrapper_get_stream(content));
        if (enc_len >= 0 && enc_len < MIMEWALK_MEM_MAX) {
            GByteArray *bytes;

            mem = g_mime_stream_mem_new();
            if (g_mime_data_wrapper_write_to_stream(content, mem) < 0) {
                vbuf_sprintf(w->err, "cannot decode MIME part %s", path);
                g_object_unref(mem);
                g_free(declared);
                return -1;
            }
            bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
            if (bytes != NULL && bytes->len > 0) {
                p.data = bytes->data;
                p.size = bytes->len;
            }
        } else if ((p.fd = mimewalk_decode_file(w, content, path, &p.size)) < 0) {
            g_free(declared);
            return -1;
        } else {
            p.data = NULL;
        }
    }
    w->info->nparts++;
    rc = w->fn(&p, w->context) ? 1 : 0;
    if (mem)
        g_object_unref(mem);
    if (p.fd >= 0)
        close(p.fd);
    g_free(declared);
    return rc;
}

/* mimewalk_unreadable - note content no scanner can look into */
static void mimewalk_unreadable(WALK *w, GMimeObject *obj)
{
    if (obj == NULL)
        return;
    if (GMIME_IS_MULTIPART_ENCRYPTED(obj)
        || (GMIME_IS_APPLICATION_PKCS7_MIME(obj)
            && g_mime_application_pkcs7_mime_get_smime_type(GMIME_APPLICATION_PKCS7_MIME(obj))
            == GMIME_SECURE_MIME_TYPE_ENVELOPED_DATA))
        mimewalk_note(w->info->unreadable, "encrypted MIME part");
    else if (GMIME_IS_MESSAGE_PARTIAL(obj))
        mimewalk_note(w->info->unreadable, "message/partial");
}

/* mimewalk_tree - every entity of a parsed message, leaves decoded */
static int mimewalk_tree(WALK *w, GMimeMessage *message, long max_parts, long max_depth)
{
    GMimePartIter *iter = g_mime_part_iter_new((GMimeObject *)message);
    long    count = 0;
    int     rc = 0;

    /* The iterator skips the top entity of each message. */
    mimewalk_unreadable(w, g_mime_message_get_mime_part(message));
    for (; rc == 0 && g_mime_part_iter_is_valid(iter); g_mime_part_iter_next(iter)) {
        GMimeObject *obj = g_mime_part_iter_get_current(iter);
        char   *gpath = g_mime_part_iter_get_path(iter);
        const char *path = (gpath == NULL || strcmp(gpath, "0") == 0) ? "1" : gpath;
        const char *cp;
        int     depth = 1;

        for (cp = path; *cp; cp++)
            depth += (*cp == '.');
        if (++count > max_parts) {
            mimewalk_note(w->info->limit, "too many MIME parts");
            g_free(gpath);
            break;
        }
        if (depth > max_depth) {
            mimewalk_note(w->info->limit, "MIME nesting too deep");
        } else {
            mimewalk_unreadable(w, obj);
            if (GMIME_IS_MESSAGE_PART(obj)) {
                GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));

                if (inner)
                    mimewalk_unreadable(w, g_mime_message_get_mime_part(inner));
            }
            if (GMIME_IS_PART(obj))
                rc = mimewalk_leaf(w, obj, path, depth);
        }
        g_free(gpath);
    }
    g_mime_part_iter_free(iter);
    return rc < 0 ? -1 : 0;
}

/* mimewalk_raw - input that is not a message: the file is the one part */
static int mimewalk_raw(WALK *w, int fd)
{
    MIMEWALK_PART p;
    off_t   size = spool_size(fd);

    if (size < 0) {
        vbuf_sprintf(w->err, "cannot stat the message file: %s", strerror(errno));
        return -1;
    }
    p.path = "1";
    p.depth = 1;
    p.filename = "";
    p.names = NULL;
    p.nnames = 0;
    p.declared = "";
    p.data = NULL;
    p.size = (size_t)size;
    p.fd = fd;
    w->info->nparts++;
    (void)w->fn(&p, w->context);
    return 0;
}

/* mimewalk - parse fd and walk its leaves */
int mimewalk(int fd, const char *spool_dir, long max_parts, long max_depth,
             MIMEWALK_FN fn, void *context, MIMEWALK_INFO *info, VBUF *err)
{
    GMimeParserOptions *options;
    GMimeStream *stream;
    GMimeParser *parser;
    GMimeMessage *message;
    WALK    w;
    off_t   saved;
    int     dfd, rc;

    mimewalk_init();
    if ((saved = lseek(fd, 0, SEEK_CUR)) < 0 || (dfd = dup(fd)) < 0) {
        vbuf_sprintf(err, "cannot read the message file: %s", strerror(errno));
        return -1;
    }
    memset(&w, 0, sizeof(w));
    w.info = info;
    w.fn = fn;
    w.context = context;
    w.spool_dir = spool_dir;
    w.err = err;
    w.tmp = vbuf_alloc(1024);

    stream = g_mime_stream_fs_new_with_bounds(dfd, 0, -1);
    g_mime_stream_fs_set_owner(GMIME_STREAM_FS(stream), TRUE);
    parser = g_mime_parser_new_with_stream(stream);
    g_mime_parser_set_persist_stream(parser, TRUE);
    g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
    options = g_mime_parser_options_new();
    g_mime_parser_options_set_warning_callback(options, mimewalk_warning_fn, &w);

    message = g_mime_parser_construct_message(parser, options);
    if (message == NULL) {
        /* What made GMime give up is no ambiguity: there is one reading. */
        info->not_mime = 1;
        vbuf_reset(info->ambiguous);
        rc = mimewalk_raw(&w, fd);
    } else {
        rc = mimewalk_tree(&w, message, max_parts, max_depth);
        g_object_unref(message);
    }
    g_object_unref(parser);
    g_object_unref(stream);
    g_mime_parser_options_free(options);
    mimewalk_names_reset(&w);
    vbuf_free(w.tmp);
    if (lseek(fd, saved, SEEK_SET) < 0 && rc == 0) {
        vbuf_sprintf(err, "cannot seek the message file: %s", strerror(errno));
        rc = -1;
    }
    return rc;
}
