/*
 * mimewalk - walk a spooled message with GMime within limits (see
 * mimewalk.h)
 *
 * mimescan reads the file first and says where GMime must stop; the
 * parser then reads a dup of the spool descriptor through a stream bounded
 * at [0, cut), with persist_stream on, so part contents are substreams of
 * the file and never copied into memory by the parser; only decoding a
 * small part (encoded size under MIMEWALK_MEM_MAX, and decoding never
 * grows base64, quoted-printable or uuencoded data) fills memory.
 *
 * The parser's warning callback sorts GMime's findings: the GMIME_CRIT_*
 * ones mean another MIME reader (the recipient's, or libclamav's) may see
 * other parts than GMime does, so they make the structure ambiguous; the
 * others (a header repeated with the same value, 8-bit headers) are logged
 * at debug level only. GMime keeps one value of a repeated parameter and
 * hands out C strings that stop at a NUL, so the raw Content-Type and
 * Content-Disposition headers of every part are read again from the file
 * and parsed by mimename for all their filename and name parameters: all
 * of them go to the banned rules, and two different values of one is
 * ambiguous.
 *
 * GMime 3.2 reads lines longer than its 4 KB buffer in pieces and takes a
 * piece that starts with "--boundary" for a boundary line, where every
 * other reader sees the middle of a line. A leaf whose content is not
 * followed by a line break, or a preamble or epilogue with such a long
 * line, is therefore ambiguous: the raw headers are then swept for names
 * whatever GMime made of them.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "scan/mimename.h"
#include "scan/mimescan.h"
#include "scan/mimewalk.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/spool.h"

#define MIMEWALK_NOTE_MAX   200     /* reasons beyond this are dropped */
#define MIMEWALK_LONG_LINE  3800    /* GMime may split lines longer than this */

typedef struct WALK {
    MIMEWALK_INFO *info;
    const MIMEWALK_LIMITS *limits;
    MIMEWALK_FN fn;
    void   *context;
    const char *spool_dir;
    int     fd;                     /* the message */
    off_t   cut;                    /* GMime read [0, cut) */
    VBUF   *err;
    VBUF   *tmp;                    /* scratch text */
    VBUF   *raw;                    /* scratch: a raw header */
    unsigned warned;                /* GMime warning codes already noted */
    /* the current part's names */
    char  **names;
    int     nnames;
    int     anames;
    GHashTable *seen;
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
    info->nul = 0;
    info->lines = info->dash_lines = 0;
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

    /* An attacker can make GMime warn once per line: stay cheap. */
    if ((unsigned)code < 32 && code != GMIME_CRIT_CONFLICTING_PARAMETER
        && code != GMIME_CRIT_CONFLICTING_HEADER && (w->warned & (1u << code)))
        return;
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
        if ((unsigned)code < 32)
            w->warned |= 1u << code;
        return;
    }
    if ((unsigned)code < 32)
        w->warned |= 1u << code;
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
    g_hash_table_remove_all(w->seen);
    while (w->nnames > 0)
        myfree(w->names[--w->nnames]);
}

/* mimewalk_add - one name for the banned rules, once */
static void mimewalk_add(WALK *w, const char *name, size_t len)
{
    char   *copy;

    if (len == 0)
        return;
    copy = mystrndup(name, len);
    if (g_hash_table_contains(w->seen, copy)) {
        myfree(copy);
        return;
    }
    if (w->nnames == w->anames) {
        w->anames = w->anames ? w->anames * 2 : 16;
        w->names = myrealloc(w->names, (size_t)w->anames * sizeof(char *));
    }
    w->names[w->nnames++] = copy;
    g_hash_table_add(w->seen, copy);
}

/* mimewalk_add_value - a decoded value; one with NUL bytes is also taken
 * without them, and for what follows the last one (GMime's C string, what
 * precedes the first, is taken too) */
static void mimewalk_add_value(WALK *w, const char *value, size_t len)
{
    const char *nul = memchr(value, 0, len), *last;
    char   *stripped;
    size_t  i, n;

    if (nul == NULL) {
        mimewalk_add(w, value, len);
        return;
    }
    mimewalk_add(w, value, (size_t)(nul - value));
    stripped = mymalloc(len + 1);
    for (i = n = 0; i < len; i++)
        if (value[i] != 0)
            stripped[n++] = value[i];
    mimewalk_add(w, stripped, n);
    myfree(stripped);
    for (last = value + len; last > value && last[-1] != 0; last--)
         /* void */ ;
    mimewalk_add(w, last, (size_t)(value + len - last));
}

/* mimewalk_name_fn - mimename callback: a file name of the current part */
static void mimewalk_name_fn(const char *attr, const char *value, size_t len, void *context)
{
    (void)attr;
    mimewalk_add_value(context, value, len);
}

/* mimewalk_raw_header - the header field that starts at offset in the
 * file, as bytes (what follows the colon), into w->raw; 0, or -1 when it
 * does not start with name */
static int mimewalk_raw_header(WALK *w, gint64 offset, const char *name)
{
    char    buf[2048];
    size_t  nlen = strlen(name), i, start = 0;
    ssize_t n;
    off_t   off = (off_t)offset;
    const char *colon;

    vbuf_reset(w->raw);
    if (offset < 0 || off >= w->cut)
        return -1;
    /* Read until a line break that is not folding, the cut, or the cap. */
    while (off < w->cut && vbuf_len(w->raw) <= MIMESCAN_FIELD_MAX) {
        size_t  want = sizeof(buf);

        if ((off_t)want > w->cut - off)
            want = (size_t)(w->cut - off);
        if ((n = pread(w->fd, buf, want, off)) <= 0)
            break;
        vbuf_append(w->raw, buf, (size_t)n);
        off += n;
        for (i = start; i + 1 < vbuf_len(w->raw); i++) {
            if (w->raw->data[i] == '\n' && w->raw->data[i + 1] != ' ' && w->raw->data[i + 1] != '\t') {
                vbuf_truncate(w->raw, i + 1);
                goto done;
            }
        }
        start = i;
    }
done:
    if (vbuf_len(w->raw) <= nlen || strncasecmp(vbuf_str(w->raw), name, nlen) != 0
        || (colon = memchr(vbuf_str(w->raw), ':', vbuf_len(w->raw))) == NULL)
        return -1;
    i = (size_t)(colon + 1 - vbuf_str(w->raw));
    memmove(w->raw->data, w->raw->data + i, vbuf_len(w->raw) - i);
    vbuf_truncate(w->raw, vbuf_len(w->raw) - i);
    return 0;
}

/* mimewalk_names - every filename and name parameter of the part's
 * Content-Type and Content-Disposition headers: as GMime decodes them, and
 * as bytes from the raw file */
static void mimewalk_names(WALK *w, GMimeObject *obj, const char *path)
{
    static const char *const kinds[] = {"filename", "name", NULL};
    GMimeHeaderList *headers = g_mime_object_get_header_list(obj);
    char   *first[2] = {NULL, NULL};
    int     nheaders, i, j, k, n;

    mimewalk_names_reset(w);
    if (headers == NULL)
        return;
    nheaders = g_mime_header_list_get_count(headers);
    for (i = 0; i < nheaders; i++) {
        GMimeHeader *header = g_mime_header_list_get_header_at(headers, i);
        const char *hname = g_mime_header_get_name(header);
        const char *raw = g_mime_header_get_raw_value(header);
        const char *semi;
        GMimeParamList *params;

        if (hname == NULL || (strcasecmp(hname, "Content-Type") != 0
                              && strcasecmp(hname, "Content-Disposition") != 0))
            continue;
        if (mimewalk_raw_header(w, g_mime_header_get_offset(header), hname) == 0)
            (void)mimename_params(vbuf_str(w->raw), vbuf_len(w->raw), kinds, mimewalk_name_fn, w);
        if (raw == NULL || (semi = strchr(raw, ';')) == NULL
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
            mimewalk_add(w, value, strlen(value));
        }
        g_object_unref(params);
    }
    myfree(first[0]);
    myfree(first[1]);
    if (w->nnames > MIMEWALK_NAMES_SANE) {
        vbuf_sprintf(w->tmp, "%d file names in part %s", w->nnames, path);
        mimewalk_note(w->info->ambiguous, vbuf_str(w->tmp));
    }
}

/* mimewalk_part_init - a piece with nothing in it yet */
static void mimewalk_part_init(MIMEWALK_PART *p, MIMEWALK_KIND kind, const char *path, int depth)
{
    p->kind = kind;
    p->path = path;
    p->depth = depth;
    p->cheap = 0;
    p->offset = -1;
    p->filename = "";
    p->names = NULL;
    p->nnames = 0;
    p->declared = "";
    p->data = (const unsigned char *)"";
    p->size = 0;
    p->fd = -1;
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

/* mimewalk_line_break - whether GMime's part content ends before a line
 * break, as it does before a real boundary line */
static void mimewalk_line_break(WALK *w, GMimeStream *stream)
{
    char    ch;

    /* Empty content starts a line: a boundary right there is a real one. */
    if (stream == NULL || stream->bound_end < 0 || stream->bound_end >= w->cut
        || stream->bound_end <= stream->bound_start)
        return;
    if (pread(w->fd, &ch, 1, (off_t)stream->bound_end) == 1 && ch != '\r' && ch != '\n')
        mimewalk_note(w->info->ambiguous, "boundary inside a line");
}

/* mimewalk_leaf - decode one leaf part and hand it to the callback;
 * -1 on error, 1 when the callback stops the walk, else 0 */
static int mimewalk_leaf(WALK *w, GMimeObject *obj, const char *path, int depth,
                         int cheap, int names_only)
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

    mimewalk_names(w, obj, path);
    fname = g_mime_part_get_filename(part);
    declared = ctype ? g_mime_content_type_get_mime_type(ctype) : NULL;

    mimewalk_part_init(&p, names_only ? MIMEWALK_NAMES : MIMEWALK_LEAF, path, depth);
    p.cheap = cheap;
    p.filename = fname ? fname : "";
    p.names = (const char *const *)w->names;
    p.nnames = w->nnames;
    p.declared = declared ? declared : "";

    if (content != NULL)
        mimewalk_line_break(w, g_mime_data_wrapper_get_stream(content));
    if (content != NULL && !names_only) {
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
    if (!names_only)
        w->info->nparts++;
    rc = w->fn(&p, w->context) ? 1 : 0;
    if (mem)
        g_object_unref(mem);
    if (p.fd >= 0)
        close(p.fd);
    g_free(declared);
    return rc;
}

/* mimewalk_long_line - a line GMime may have read in pieces */
static int mimewalk_long_line(const char *text)
{
    const char *cp, *nl;

    for (cp = text; *cp; cp = nl + 1) {
        if ((nl = strchr(cp, '\n')) == NULL)
            nl = cp + strlen(cp);
        if (nl - cp > MIMEWALK_LONG_LINE && memmem(cp, (size_t)(nl - cp), "--", 2) != NULL)
            return 1;
        if (*nl == 0)
            break;
    }
    return 0;
}

/* mimewalk_faces - a multipart's preamble and epilogue; as for a leaf */
static int mimewalk_faces(WALK *w, GMimeMultipart *mp, const char *path, int depth, int cheap)
{
    const char *text[2];
    MIMEWALK_KIND kinds[2] = {MIMEWALK_PREAMBLE, MIMEWALK_EPILOGUE};
    MIMEWALK_PART p;
    int     i, rc = 0;

    text[0] = g_mime_multipart_get_prologue(mp);
    text[1] = g_mime_multipart_get_epilogue(mp);
    for (i = 0; rc == 0 && i < 2; i++) {
        if (text[i] == NULL || text[i][strspn(text[i], " \t\r\n")] == 0)
            continue;
        if (mimewalk_long_line(text[i]))
            mimewalk_note(w->info->ambiguous, "boundary inside a line");
        mimewalk_part_init(&p, kinds[i], path, depth);
        p.cheap = cheap;
        p.declared = "text/plain";
        p.data = (const unsigned char *)text[i];
        p.size = strlen(text[i]);
        rc = w->fn(&p, w->context) ? 1 : 0;
    }
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

/* mimewalk_tree - every entity of a parsed message */
static int mimewalk_tree(WALK *w, GMimeMessage *message)
{
    GMimePartIter *iter = g_mime_part_iter_new((GMimeObject *)message);
    GMimeObject *root = g_mime_message_get_mime_part(message);
    long    count = 0;
    int     rc = 0;

    /* The iterator skips the top entity of each message. */
    mimewalk_unreadable(w, root);
    if (root != NULL && GMIME_IS_MULTIPART(root))
        rc = mimewalk_faces(w, GMIME_MULTIPART(root), "", 0, 0);
    for (; rc == 0 && g_mime_part_iter_is_valid(iter); g_mime_part_iter_next(iter)) {
        GMimeObject *obj = g_mime_part_iter_get_current(iter);
        char   *gpath = g_mime_part_iter_get_path(iter);
        const char *path = (gpath == NULL || strcmp(gpath, "0") == 0) ? "1" : gpath;
        const char *cp;
        int     depth = 1, cheap = 0, beyond = 0;

        for (cp = path; *cp; cp++)
            depth += (*cp == '.');
        if (++count > w->limits->max_parts) {
            mimewalk_note(w->info->limit, "too many MIME parts");
            beyond = 1;
        } else if (depth > w->limits->max_depth) {
            mimewalk_note(w->info->limit, "MIME nesting too deep");
            cheap = 1;
        }
        mimewalk_unreadable(w, obj);
        if (GMIME_IS_MESSAGE_PART(obj)) {
            GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
            GMimeObject *iroot = inner ? g_mime_message_get_mime_part(inner) : NULL;

            mimewalk_unreadable(w, iroot);
            if (!beyond && iroot != NULL && GMIME_IS_MULTIPART(iroot))
                rc = mimewalk_faces(w, GMIME_MULTIPART(iroot), path, depth, cheap);
        } else if (GMIME_IS_MULTIPART(obj)) {
            if (!beyond)
                rc = mimewalk_faces(w, GMIME_MULTIPART(obj), path, depth, cheap);
        } else if (GMIME_IS_PART(obj)) {
            rc = mimewalk_leaf(w, obj, path, depth, cheap, beyond);
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
    mimewalk_part_init(&p, MIMEWALK_LEAF, "1", 1);
    p.data = NULL;
    p.size = (size_t)size;
    p.fd = fd;
    w->info->nparts++;
    (void)w->fn(&p, w->context);
    return 0;
}

/* mimewalk_sweep_fn - a file name from the raw headers */
static void mimewalk_sweep_fn(off_t offset, const char *value, size_t len, void *context)
{
    WALK   *w = context;
    MIMEWALK_PART p;

    mimewalk_names_reset(w);
    mimewalk_add_value(w, value, len);
    mimewalk_part_init(&p, MIMEWALK_NAMES, NULL, 0);
    p.offset = offset;
    p.names = (const char *const *)w->names;
    p.nnames = w->nnames;
    (void)w->fn(&p, w->context);
}

/* mimewalk_parse - GMime on the first w->cut bytes of a duplicate of the
 * message descriptor (dfd, which it takes), then the tree walked, or the
 * raw text when GMime found no message; 0 or -1 */
static int mimewalk_parse(WALK *w, int dfd)
{
    GMimeParserOptions *options;
    GMimeStream *stream;
    GMimeParser *parser;
    GMimeMessage *message;
    int     rc;

    stream = g_mime_stream_fs_new_with_bounds(dfd, 0, w->cut);
    g_mime_stream_fs_set_owner(GMIME_STREAM_FS(stream), TRUE);
    parser = g_mime_parser_new_with_stream(stream);
    g_mime_parser_set_persist_stream(parser, TRUE);
    g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
    options = g_mime_parser_options_new();
    g_mime_parser_options_set_warning_callback(options, mimewalk_warning_fn, w);

    message = g_mime_parser_construct_message(parser, options);
    if (message == NULL) {
        /* What made GMime give up is no ambiguity: there is one reading. */
        w->info->not_mime = 1;
        vbuf_reset(w->info->ambiguous);
        rc = mimewalk_raw(w, w->fd);
    } else {
        rc = mimewalk_tree(w, message);
        g_object_unref(message);
    }
    g_object_unref(parser);
    g_object_unref(stream);
    g_mime_parser_options_free(options);
    return rc;
}

/* mimewalk_prescan - bound the parser (mimescan) and note what the
 * pre-scan found; a duplicate of fd for GMime, or -1 with why in err */
static int mimewalk_prescan(int fd, const MIMEWALK_LIMITS *limits, MIMESCAN_RESULT *scan,
                            MIMEWALK_INFO *info, VBUF *err)
{
    MIMESCAN_LIMITS slimits;
    int     dfd;

    slimits.max_parts = limits->max_parts;
    slimits.max_headers = limits->max_headers;
    if (mimescan_bound(fd, &slimits, scan, err) < 0)
        return -1;
    if ((dfd = dup(fd)) < 0) {
        vbuf_sprintf(err, "cannot read the message file: %s", strerror(errno));
        return -1;
    }
    if (vbuf_len(scan->why))
        mimewalk_note(info->limit, vbuf_str(scan->why));
    info->nul = scan->nul;
    info->lines = scan->lines;
    info->dash_lines = scan->dash_lines;
    if (msg_verbose)
        msg_debug("MIME pre-scan: %lld of %lld bytes for the parser%s%s, %ld boundary lines,"
                  " %ld header items", (long long)scan->cut, (long long)scan->size,
                  vbuf_len(scan->why) ? ": " : "", vbuf_str(scan->why), scan->starts,
                  scan->items);
    return dfd;
}

/* mimewalk - bound, parse and walk fd */
int mimewalk(int fd, const char *spool_dir, const MIMEWALK_LIMITS *limits,
             MIMEWALK_FN fn, void *context, MIMEWALK_INFO *info, VBUF *err)
{
    MIMESCAN_RESULT scan;
    WALK    w;
    off_t   saved, from;
    int     dfd, rc;

    mimewalk_init();
    if ((saved = lseek(fd, 0, SEEK_CUR)) < 0) {
        vbuf_sprintf(err, "cannot read the message file: %s", strerror(errno));
        return -1;
    }
    mimescan_result_init(&scan);
    if ((dfd = mimewalk_prescan(fd, limits, &scan, info, err)) < 0) {
        mimescan_result_free(&scan);
        return -1;
    }
    memset(&w, 0, sizeof(w));
    w.info = info;
    w.limits = limits;
    w.fn = fn;
    w.context = context;
    w.spool_dir = spool_dir;
    w.fd = fd;
    w.cut = scan.cut;
    w.err = err;
    w.tmp = vbuf_alloc(1024);
    w.raw = vbuf_alloc(MIMESCAN_FIELD_MAX + 16 * 1024);
    w.seen = g_hash_table_new(g_str_hash, g_str_equal);
    rc = mimewalk_parse(&w, dfd);

    /*
     * File names GMime did not see: the rest of the file after the cut, or
     * all of it when GMime's reading may not be the recipient's.
     */
    if (rc == 0 && (vbuf_len(info->ambiguous) || scan.cut < scan.size)) {
        from = vbuf_len(info->ambiguous) ? 0 : scan.cut;
        vbuf_reset(w.tmp);
        if (mimescan_sweep(fd, from, mimewalk_sweep_fn, &w, w.tmp, err) < 0)
            rc = -1;
        else if (vbuf_len(w.tmp))
            mimewalk_note(info->limit, vbuf_str(w.tmp));
    }
    mimewalk_names_reset(&w);
    myfree(w.names);
    g_hash_table_destroy(w.seen);
    vbuf_free(w.tmp);
    vbuf_free(w.raw);
    mimescan_result_free(&scan);
    if (lseek(fd, saved, SEEK_SET) < 0 && rc == 0) {
        vbuf_sprintf(err, "cannot seek the message file: %s", strerror(errno));
        rc = -1;
    }
    return rc;
}
