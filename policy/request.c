/*
 * request - one policy-delegation request, read with bounds (request.h)
 *
 * The first complaint about a request is kept and the rest of it is read
 * and dropped, up to its empty line: Postfix sends one request and waits
 * for one answer, so answering a bad request keeps client and server in
 * step, and the connection can go on.
 */
#include <stdarg.h>
#include <string.h>

#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/netio.h"
#include "lib/vbuf.h"
#include "policy/request.h"

const char *const request_status_names[] = {
    "REQUEST_OK", "REQUEST_END", "REQUEST_BAD", "REQUEST_LOST",
};

 /*
  * Where a request being read stands.
  */
typedef struct REQ_STATE {
    REQUEST *req;
    VBUF   *err;
    int     bad;                        /* a complaint is in err */
    size_t  bytes;                      /* every byte read, dropped ones too */
} REQ_STATE;

/* request_init - an empty request */
void    request_init(REQUEST *req)
{
    req->count = 0;
    req->total = 0;
}

/* request_reset - free the attributes */
void    request_reset(REQUEST *req)
{
    int     i;

    for (i = 0; i < req->count; i++) {
        myfree(req->attrs[i].name);
        myfree(req->attrs[i].value);
    }
    request_init(req);
}

/* request_get - an attribute's value, NULL when absent */
const char *request_get(const REQUEST *req, const char *name)
{
    int     i;

    for (i = 0; i < req->count; i++)
        if (strcmp(req->attrs[i].name, name) == 0)
            return req->attrs[i].value;
    return NULL;
}

/* request_add - one more attribute; -1 when the request is full */
int     request_add(REQUEST *req, const char *name, const char *value)
{
    if (req->count >= REQUEST_MAX_ATTRS)
        return -1;
    req->attrs[req->count].name = mystrdup(name);
    req->attrs[req->count].value = mystrdup(value);
    req->count++;
    return 0;
}

/* req_complain - keep the first complaint; later ones add nothing */
static int PS_PRINTF(2, 3) req_complain(REQ_STATE *st, const char *fmt, ...)
{
    va_list ap;

    if (st->bad)
        return -1;
    st->bad = 1;
    vbuf_reset(st->err);
    va_start(ap, fmt);
    vbuf_vsprintf_append(st->err, fmt, ap);
    va_end(ap);
    return -1;
}

/* req_name_ok - a name is letters, digits, '_', '-' and '.' */
static int req_name_ok(const char *name, size_t len)
{
    size_t  i;

    if (len == 0 || len > REQUEST_MAX_NAME)
        return 0;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '_' || c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

/* req_line - one "name=value" line of a request (not the empty one);
 * -1 when it is bad (the complaint is in st) */
static int req_line(REQ_STATE *st, const char *line, size_t len)
{
    const char *eq;
    size_t  i, nlen;
    char   *name;

    st->req->total += len + 1;
    if (st->req->total > REQUEST_MAX_TOTAL)
        (void)req_complain(st, "request longer than %zu bytes", (size_t)REQUEST_MAX_TOTAL);
    if (st->bad)
        return -1;
    if (memchr(line, '\0', len) != NULL)
        return req_complain(st, "NUL byte in attribute line %zu", (size_t)st->req->count + 1);
    for (i = 0; i < len; i++)
        if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] == 0x7f)
            return req_complain(st, "control byte in attribute line %zu",
                                (size_t)st->req->count + 1);
    if ((eq = memchr(line, '=', len)) == NULL)
        return req_complain(st, "attribute line %zu without '='", (size_t)st->req->count + 1);
    nlen = (size_t)(eq - line);
    if (!req_name_ok(line, nlen))
        return req_complain(st, "bad attribute name in line %zu", (size_t)st->req->count + 1);
    if (len - nlen - 1 > REQUEST_MAX_VALUE)
        return req_complain(st, "attribute value longer than %zu bytes",
                            (size_t)REQUEST_MAX_VALUE);
    if (st->req->count >= REQUEST_MAX_ATTRS)
        return req_complain(st, "more than %zu attributes", (size_t)REQUEST_MAX_ATTRS);
    name = mystrndup(line, nlen);
    if (request_get(st->req, name) != NULL) {
        myfree(name);
        return req_complain(st, "attribute repeated in line %zu", (size_t)st->req->count + 1);
    }
    st->req->attrs[st->req->count].name = name;
    st->req->attrs[st->req->count].value = mystrndup(eq + 1, len - nlen - 1);
    st->req->count++;
    return 0;
}

/* req_finish - the empty line came: REQUEST_OK or REQUEST_BAD */
static int req_finish(REQ_STATE *st)
{
    const char *type = request_get(st->req, "request");

    if (!st->bad && (type == NULL || strcmp(type, "smtpd_access_policy") != 0))
        (void)req_complain(st, "no request=smtpd_access_policy");
    return st->bad ? REQUEST_BAD : REQUEST_OK;
}

/* req_lost - the empty line will not come: why, and REQUEST_LOST */
static int req_lost(REQ_STATE *st, const char *why)
{
    if (st->bad)
        vbuf_sprintf_append(st->err, "; then %s", why);
    else
        vbuf_sprintf(st->err, "%s", why);
    return REQUEST_LOST;
}

/* req_read_failed - netio could not give the next line */
static int req_read_failed(REQ_STATE *st, NETIO *io)
{
    int     kind = netio_errkind(io);

    if (st->bytes == 0 && (kind == NETIO_EOF || kind == NETIO_TIMEOUT || kind == NETIO_INTR)) {
        vbuf_sprintf(st->err, "%s", kind == NETIO_EOF ? "end of connection"
                     : kind == NETIO_TIMEOUT ? "idle timeout" : "shutting down");
        return REQUEST_END;
    }
    if (kind == NETIO_EOF)
        return req_lost(st, "end of file before the empty line");
    return req_lost(st, netio_strerror(io));
}

/* request_read - see request.h */
int     request_read(NETIO *io, REQUEST *req, int idle, int timeout, VBUF *err)
{
    REQ_STATE st = {req, err, 0, 0};
    VBUF   *line = vbuf_alloc(REQUEST_MAX_NAME + REQUEST_MAX_VALUE + 8);
    ssize_t n;
    int     status;

    request_reset(req);
    vbuf_reset(err);
    netio_set_timeout(io, idle);
    netio_set_deadline(io, 0);
    for (;;) {
        n = netio_read_line(io, line, REQUEST_MAX_NAME + 1 + REQUEST_MAX_VALUE, NULL);
        if (n < 0 && netio_errkind(io) == NETIO_TOOLONG) {
            (void)req_complain(&st, "attribute line longer than %zu bytes",
                         (size_t)(REQUEST_MAX_NAME + 1 + REQUEST_MAX_VALUE));
            n = 0;                      /* counted below as what netio dropped */
            st.bytes += REQUEST_MAX_VALUE;
        } else if (n < 0) {
            status = req_read_failed(&st, io);
            break;
        }
        if (st.bytes == 0) {            /* the request has begun */
            netio_set_timeout(io, timeout);
            netio_set_deadline(io, timeout);
        }
        st.bytes += (size_t)n;
        if (n > 0 && vbuf_len(line) == 0) {
            status = req_finish(&st);
            break;
        }
        if (st.bytes > REQUEST_MAX_DISCARD) {
            status = req_lost(&st, "no empty line within the discard limit");
            break;
        }
        if (n > 0)
            (void)req_line(&st, vbuf_str(line), vbuf_len(line));
    }
    vbuf_free(line);
    return status;
}

/* request_parse - see request.h */
int     request_parse(REQUEST *req, const char *data, size_t len, VBUF *err)
{
    REQ_STATE st = {req, err, 0, 0};
    const char *end = data + len, *nl;
    size_t  llen;

    request_reset(req);
    vbuf_reset(err);
    while (data < end) {
        if ((nl = memchr(data, '\n', (size_t)(end - data))) == NULL)
            return req_lost(&st, "end of file before the empty line");
        llen = (size_t)(nl - data);
        if (llen > 0 && data[llen - 1] == '\r')
            llen--;
        if (llen == 0)
            return req_finish(&st);
        if (llen > REQUEST_MAX_NAME + 1 + REQUEST_MAX_VALUE)
            (void)req_complain(&st, "attribute line longer than %zu bytes",
                         (size_t)(REQUEST_MAX_NAME + 1 + REQUEST_MAX_VALUE));
        else
            (void)req_line(&st, data, llen);
        data = nl + 1;
    }
    if (len == 0) {
        vbuf_sprintf(err, "end of connection");
        return REQUEST_END;
    }
    return req_lost(&st, "end of file before the empty line");
}
